// The fast float32 activation kernels (src/kernels/cpu/activation.cpp) against the readable double-precision
// references (src/kernels/ref/activation.cpp) over a wide sweep of inputs, including the extremes: +-inf,
// huge and tiny magnitudes, subnormals and NaN.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "ember/kernels/activation.h"

namespace {

using Kernel = void (*)(const float*, float*, int64_t);

std::vector<float> sweep(float lo, float hi, int n) {
  std::vector<float> v;
  for (int i = 0; i <= n; ++i) v.push_back(lo + (hi - lo) * static_cast<float>(i) / static_cast<float>(n));
  const float inf = std::numeric_limits<float>::infinity();
  for (float s : {1.0f, -1.0f})
    for (float m : {0.0f,  1e-45f, 1e-40f, 1e-30f, 1e-8f,  1e-3f,  0.3f,   0.625f, 1.0f,  4.0f, 9.0f,
                    20.0f, 87.0f,  88.7f,  88.8f,  103.0f, 104.5f, 200.0f, 1e10f,  3e38f, inf})
      v.push_back(s * m);
  return v;
}

// Distance in units in the last place between two floats of the same sign (inf and NaN handled by callers).
int64_t ulp_distance(float a, float b) {
  if (a == b) return 0;
  int32_t ia, ib;
  std::memcpy(&ia, &a, 4);
  std::memcpy(&ib, &b, 4);
  if ((ia < 0) != (ib < 0)) return std::abs(ia & 0x7fffffff) + std::abs(ib & 0x7fffffff);
  return std::abs(static_cast<int64_t>(ia) - ib);
}

// Every output within max_ulp of the reference (or within abs_tol), NaN exactly where the reference has NaN.
void expect_close(const char* what, const std::vector<float>& x, Kernel fast, Kernel ref, int64_t max_ulp,
                  double abs_tol = 0) {
  std::vector<float> got(x.size()), want(x.size());
  fast(x.data(), got.data(), static_cast<int64_t>(x.size()));
  ref(x.data(), want.data(), static_cast<int64_t>(x.size()));
  int64_t worst = 0;
  int failures = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    bool ok;
    if (std::isnan(want[i])) {
      ok = std::isnan(got[i]);
    } else if (std::isinf(want[i])) {
      ok = got[i] == want[i];
    } else {
      int64_t d = ulp_distance(got[i], want[i]);
      ok = d <= max_ulp || std::abs(double(got[i]) - double(want[i])) <= abs_tol;
      if (d > worst && !std::isinf(got[i])) worst = d;
    }
    if (!ok && failures++ < 5)
      ADD_FAILURE() << what << "(" << x[i] << ") = " << got[i] << ", reference " << want[i] << " ("
                    << ulp_distance(got[i], want[i]) << " ulp)";
  }
  ::testing::Test::RecordProperty(std::string(what) + "_worst_ulp", static_cast<int>(worst));
}

std::vector<float> with_nan(std::vector<float> v) {
  v.push_back(std::numeric_limits<float>::quiet_NaN());
  v.push_back(-std::numeric_limits<float>::quiet_NaN());
  return v;
}

TEST(ActivationKernels, ExpMatchesReference) {
  auto x = with_nan(sweep(-110.0f, 95.0f, 400000));
  // Subnormal results are rounded twice (2^k is applied in two steps): allow 1 ulp of a subnormal there.
  expect_close("exp", x, ember::kernels::exp, ember::kernels::ref::exp, 2, 1.5e-45);
}

TEST(ActivationKernels, LogMatchesReference) {
  auto x = with_nan(sweep(-2.0f, 1000.0f, 400000));
  for (int e = -149; e < 128; ++e) x.push_back(std::ldexp(1.37f, e));
  expect_close("log", x, ember::kernels::log, ember::kernels::ref::log, 2);
}

TEST(ActivationKernels, TanhMatchesReference) {
  auto x = with_nan(sweep(-12.0f, 12.0f, 400000));
  expect_close("tanh", x, ember::kernels::tanh, ember::kernels::ref::tanh, 3);
}

TEST(ActivationKernels, SigmoidMatchesReference) {
  auto x = with_nan(sweep(-110.0f, 30.0f, 400000));
  expect_close("sigmoid", x, ember::kernels::sigmoid, ember::kernels::ref::sigmoid, 3, 1.5e-45);
}

TEST(ActivationKernels, ErfMatchesReference) {
  auto x = with_nan(sweep(-6.0f, 6.0f, 400000));
  expect_close("erf", x, ember::kernels::erf, ember::kernels::ref::erf, 4);
}

TEST(ActivationKernels, GeluMatchesReference) {
  // 1 + erf(x / sqrt 2) cancels for x << 0 (as in PyTorch): there the error is bounded in absolute terms.
  auto x = with_nan(sweep(-12.0f, 12.0f, 200000));
  auto exact = [](const float* a, float* b, int64_t n) { ember::kernels::gelu(a, b, n, false); };
  auto exact_ref = [](const float* a, float* b, int64_t n) { ember::kernels::ref::gelu(a, b, n, false); };
  expect_close("gelu", x, exact, exact_ref, 4, 1e-7);
  auto approx = [](const float* a, float* b, int64_t n) { ember::kernels::gelu(a, b, n, true); };
  auto approx_ref = [](const float* a, float* b, int64_t n) { ember::kernels::ref::gelu(a, b, n, true); };
  expect_close("gelu_tanh", x, approx, approx_ref, 4, 1e-7);
}

TEST(ActivationKernels, GeluBackwardMatchesReference) {
  auto x = sweep(-10.0f, 10.0f, 100000);
  std::vector<float> g(x.size(), 1.0f);
  for (bool approx : {false, true}) {
    std::vector<float> got(x.size()), want(x.size());
    ember::kernels::gelu_backward(x.data(), g.data(), got.data(), static_cast<int64_t>(x.size()), approx);
    ember::kernels::ref::gelu_backward(x.data(), g.data(), want.data(), static_cast<int64_t>(x.size()),
                                       approx);
    int failures = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      if (std::isinf(x[i])) continue;  // x * pdf(x) is inf * 0 there
      if (!(std::abs(got[i] - want[i]) <= 4e-7 + 4e-7 * std::abs(want[i])) && failures++ < 5)
        ADD_FAILURE() << "gelu' (approx " << approx << ") at " << x[i] << ": " << got[i] << " vs " << want[i];
    }
  }
}

template <typename T>
void check_softmax(int64_t outer, int64_t n, int64_t inner, bool log) {
  std::vector<T> x(outer * n * inner), y(x.size()), yr(x.size()), g(x.size()), dx(x.size()), dxr(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    x[i] = static_cast<T>(std::sin(0.37 * i) * 30.0);  // spreads of +-30: e^x varies over 26 decades
    g[i] = static_cast<T>(std::cos(0.11 * i));
  }
  ember::kernels::softmax<T>(x.data(), y.data(), outer, n, inner, log);
  ember::kernels::ref::softmax<T>(x.data(), yr.data(), outer, n, inner, log);
  ember::kernels::softmax_backward<T>(y.data(), g.data(), dx.data(), outer, n, inner, log);
  ember::kernels::ref::softmax_backward<T>(yr.data(), g.data(), dxr.data(), outer, n, inner, log);
  const double tol = sizeof(T) == 4 ? 2e-6 : 1e-13;
  int failures = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    bool ok = std::abs(double(y[i]) - double(yr[i])) <= tol * (1 + std::abs(double(yr[i]))) &&
              std::abs(double(dx[i]) - double(dxr[i])) <= tol * (1 + std::abs(double(dxr[i])));
    if (!ok && failures++ < 5)
      ADD_FAILURE() << "softmax(log=" << log << ") (" << outer << ", " << n << ", " << inner << ") at " << i
                    << ": " << y[i] << " vs " << yr[i] << ", grad " << dx[i] << " vs " << dxr[i];
  }
}

TEST(ActivationKernels, SoftmaxMatchesReferenceOnEveryLayout) {
  for (bool log : {false, true}) {
    check_softmax<float>(7, 37, 1, log);    // last axis, rows shorter than the lanes
    check_softmax<float>(3, 1000, 1, log);  // last axis, long rows
    check_softmax<float>(4, 9, 300, log);   // middle axis, inner wider than a tile
    check_softmax<float>(1, 50, 5, log);    // first axis
    check_softmax<double>(5, 33, 1, log);
    check_softmax<double>(2, 7, 11, log);
    check_softmax<float>(64, 1024, 1, log);  // large enough to run on several threads
    check_softmax<float>(2, 64, 600, log);
  }
}

TEST(ActivationKernels, SoftmaxPropagatesNaNAndHandlesInf) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  std::vector<float> x{1.0f, nan, 2.0f, /* row 2 */ -inf, 0.0f, 1.0f}, y(6);
  ember::kernels::softmax<float>(x.data(), y.data(), 2, 3, 1, false);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(std::isnan(y[i])) << i;
  EXPECT_EQ(y[3], 0.0f);
  EXPECT_NEAR(y[4] + y[5], 1.0f, 1e-6f);
  ember::kernels::softmax<float>(x.data(), y.data(), 2, 3, 1, true);
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_EQ(y[3], -inf);
}

}  // namespace
