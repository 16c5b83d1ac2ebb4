// Initialisers. Values are drawn in double from ember::Generator and converted on copy, so a float32 and a
// float64 tensor initialised from the same seed hold the same numbers (up to rounding).
#include "ember/nn/init.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "ember/core/error.h"

namespace ember::nn::init {

namespace {

void check_floating(const Tensor& t, const char* fn) {
  EMBER_CHECK(t.defined(), ValueError, "init::", fn, ": undefined tensor");
  EMBER_CHECK(t.dtype() == DType::Float32 || t.dtype() == DType::Float64, DTypeError, "init::", fn,
              ": expected a floating-point tensor, got ", dtype_name(t.dtype()));
}

int64_t fan(const Tensor& t, FanMode mode) {
  auto [in, out] = calculate_fan_in_and_fan_out(t);
  return mode == FanMode::FanIn ? in : out;
}

}  // namespace

double calculate_gain(const std::string& nl, double param) {
  if (nl == "linear" || nl == "identity" || nl == "conv1d" || nl == "conv2d" || nl == "conv3d" ||
      nl == "conv_transpose1d" || nl == "conv_transpose2d" || nl == "conv_transpose3d" || nl == "sigmoid")
    return 1.0;
  if (nl == "tanh") return 5.0 / 3.0;
  if (nl == "relu") return std::sqrt(2.0);
  if (nl == "leaky_relu") return std::sqrt(2.0 / (1.0 + param * param));
  if (nl == "selu") return 3.0 / 4.0;
  throw ValueError("init::calculate_gain: unsupported nonlinearity '" + nl + "'");
}

std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& t) {
  EMBER_CHECK(t.defined(), ValueError, "init::calculate_fan_in_and_fan_out: undefined tensor");
  EMBER_CHECK(t.dim() >= 2, ShapeError,
              "init: fan in and fan out need a tensor of at least 2 dimensions, got shape ", t.shape());
  int64_t receptive = 1;
  for (int64_t d = 2; d < t.dim(); ++d) receptive *= t.shape()[d];
  return {t.shape()[1] * receptive, t.shape()[0] * receptive};
}

Tensor uniform_(Tensor t, double low, double high, Generator* gen) {
  check_floating(t, "uniform_");
  EMBER_CHECK(low <= high, ValueError, "init::uniform_: low ", low, " exceeds high ", high);
  copy_into(t, uniform(t.shape(), low, high, gen, DType::Float64));
  return t;
}

Tensor normal_(Tensor t, double mean, double std, Generator* gen) {
  check_floating(t, "normal_");
  EMBER_CHECK(std >= 0, ValueError, "init::normal_: std must be non-negative, got ", std);
  copy_into(t, normal(t.shape(), mean, std, gen, DType::Float64));
  return t;
}

Tensor constant_(Tensor t, double value) {
  check_floating(t, "constant_");
  fill_(t, value);
  return t;
}

Tensor zeros_(Tensor t) {
  return constant_(t, 0.0);
}
Tensor ones_(Tensor t) {
  return constant_(t, 1.0);
}

Tensor xavier_uniform_(Tensor t, double gain, Generator* gen) {
  check_floating(t, "xavier_uniform_");
  auto [in, out] = calculate_fan_in_and_fan_out(t);
  double a = gain * std::sqrt(6.0 / static_cast<double>(in + out));
  return uniform_(t, -a, a, gen);
}

Tensor xavier_normal_(Tensor t, double gain, Generator* gen) {
  check_floating(t, "xavier_normal_");
  auto [in, out] = calculate_fan_in_and_fan_out(t);
  return normal_(t, 0.0, gain * std::sqrt(2.0 / static_cast<double>(in + out)), gen);
}

Tensor kaiming_uniform_(Tensor t, double a, FanMode mode, const std::string& nonlinearity, Generator* gen) {
  check_floating(t, "kaiming_uniform_");
  int64_t f = fan(t, mode);
  EMBER_CHECK(f > 0, ValueError, "init::kaiming_uniform_: zero fan for shape ", t.shape());
  double bound = calculate_gain(nonlinearity, a) * std::sqrt(3.0 / static_cast<double>(f));
  return uniform_(t, -bound, bound, gen);
}

Tensor kaiming_normal_(Tensor t, double a, FanMode mode, const std::string& nonlinearity, Generator* gen) {
  check_floating(t, "kaiming_normal_");
  int64_t f = fan(t, mode);
  EMBER_CHECK(f > 0, ValueError, "init::kaiming_normal_: zero fan for shape ", t.shape());
  return normal_(t, 0.0, calculate_gain(nonlinearity, a) / std::sqrt(static_cast<double>(f)), gen);
}

Tensor orthogonal_(Tensor t, double gain, Generator* gen) {
  check_floating(t, "orthogonal_");
  EMBER_CHECK(t.dim() >= 2, ShapeError, "init::orthogonal_: needs at least 2 dimensions, got shape ",
              t.shape());
  const int64_t rows = t.shape()[0], cols = t.numel() / std::max<int64_t>(rows, 1);
  if (t.numel() == 0) return t;
  Generator& g = gen ? *gen : default_generator();
  // Factor an (m, n) normal matrix with m >= n (the transpose when rows < cols), A = QR, and take the first n
  // columns of Q with each column's sign set by diag(R) so that Q is uniformly distributed (Mezzadri 2007).
  const bool flip = rows < cols;
  const int64_t m = flip ? cols : rows, n = flip ? rows : cols;
  std::vector<double> a(m * n);  // column-major: a[j * m + i]
  {
    std::vector<double> draw(rows * cols);
    for (auto& v : draw) v = g.normal();
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) {
        double v = draw[r * cols + c];
        if (flip) {
          a[r * m + c] = v;  // A = W^T: element (c, r)
        } else {
          a[c * m + r] = v;
        }
      }
  }
  // Householder QR: for each column k, reflect x = a[k:, k] onto -sign(x0)|x| e1; keep the vectors v_k.
  std::vector<std::vector<double>> vs(n);
  std::vector<double> rdiag(n);
  for (int64_t k = 0; k < n; ++k) {
    double* col = &a[k * m];
    double norm = 0;
    for (int64_t i = k; i < m; ++i) norm += col[i] * col[i];
    norm = std::sqrt(norm);
    double alpha = col[k] >= 0 ? -norm : norm;
    std::vector<double> v(m - k);
    for (int64_t i = k; i < m; ++i) v[i - k] = col[i];
    v[0] -= alpha;
    double vnorm2 = 0;
    for (double x : v) vnorm2 += x * x;
    rdiag[k] = alpha;
    if (vnorm2 > 0) {
      for (int64_t j = k; j < n; ++j) {
        double* cj = &a[j * m];
        double dot = 0;
        for (int64_t i = k; i < m; ++i) dot += v[i - k] * cj[i];
        double f = 2 * dot / vnorm2;
        for (int64_t i = k; i < m; ++i) cj[i] -= f * v[i - k];
      }
    }
    vs[k] = std::move(v);
  }
  // Q's first n columns: apply H_0 ... H_{n-1} to the first n unit vectors, in reverse order.
  std::vector<double> q(m * n, 0.0);
  for (int64_t j = 0; j < n; ++j) q[j * m + j] = 1.0;
  for (int64_t k = n - 1; k >= 0; --k) {
    const std::vector<double>& v = vs[k];
    double vnorm2 = 0;
    for (double x : v) vnorm2 += x * x;
    if (vnorm2 == 0) continue;
    for (int64_t j = 0; j < n; ++j) {
      double* cj = &q[j * m];
      double dot = 0;
      for (int64_t i = k; i < m; ++i) dot += v[i - k] * cj[i];
      double f = 2 * dot / vnorm2;
      for (int64_t i = k; i < m; ++i) cj[i] -= f * v[i - k];
    }
  }
  std::vector<double> w(rows * cols);
  for (int64_t j = 0; j < n; ++j) {
    double s = (rdiag[j] < 0 ? -1.0 : 1.0) * gain;
    for (int64_t i = 0; i < m; ++i) {
      double v = q[j * m + i] * s;
      if (flip) {
        w[j * cols + i] = v;  // W = Q^T
      } else {
        w[i * cols + j] = v;
      }
    }
  }
  copy_into(t, from_vector(w, t.shape()));
  return t;
}

}  // namespace ember::nn::init
