// The batch-1 matrix-vector kernel (kernels::gemv) against its reference, and the linear / linear_relu ops
// that use it, against the GEMM path.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "ember/autograd/grad_mode.h"
#include "ember/kernels/gemm.h"
#include "ember/kernels/parallel.h"
#include "ember/ops/nn_ops.h"
#include "ember/ops/ops.h"

using namespace ember;

namespace {

// Reference in double, then compared with a tolerance scaled by the sum of |w x| (float rounding).
void check_gemv(int64_t n, int64_t k, int64_t ldw, bool with_bias, bool relu, uint64_t seed) {
  Generator g(seed);
  Tensor w = randn({std::max<int64_t>(n, 1), std::max<int64_t>(ldw, 1)}, &g);
  Tensor x = randn({std::max<int64_t>(k, 1)}, &g), b = randn({std::max<int64_t>(n, 1)}, &g);
  const float* pw = w.data<float>();
  const float* px = x.data<float>();
  const float* pb = with_bias ? b.data<float>() : nullptr;
  std::vector<float> y(n + 1, 12345.f);
  kernels::gemv(n, k, pw, ldw, px, pb, relu, y.data());
  for (int64_t j = 0; j < n; ++j) {
    double acc = 0, mag = 0;
    for (int64_t p = 0; p < k; ++p) {
      acc += double(pw[j * ldw + p]) * px[p];
      mag += std::abs(double(pw[j * ldw + p]) * px[p]);
    }
    if (pb) acc += pb[j], mag += std::abs(pb[j]);
    if (relu && acc < 0) acc = 0;
    EXPECT_NEAR(y[j], acc, 1e-6 * (mag + 1)) << "n=" << n << " k=" << k << " row " << j;
  }
  EXPECT_EQ(y[n], 12345.f) << "wrote past the output, n=" << n << " k=" << k;
}

}  // namespace

// Row counts around the 4-row blocks and column counts around the 8- and 16-wide steps, a padded leading
// dimension, with and without bias and relu.
TEST(Gemv, MatchesReferenceOnOddSizes) {
  uint64_t seed = 1;
  for (int64_t n : {1, 2, 3, 4, 5, 7, 9, 10, 64, 130})
    for (int64_t k : {0, 1, 3, 7, 8, 9, 15, 16, 17, 23, 24, 31, 33, 100, 784}) {
      check_gemv(n, k, k, true, false, seed++);
      check_gemv(n, k, k + 5, false, true, seed++);
    }
}

// The seed CNN's 5408x128 layer (one thread), and a weight above 2^21 multiply-adds, large enough to split the
// rows over the threads (rows not a multiple of 4).
TEST(Gemv, LargeWeightSplitOverThreads) {
  check_gemv(131, 5413, 5413, true, true, 7);
  check_gemv(128, 5408, 5408, true, false, 8);
  check_gemv(517, 4101, 4101, true, true, 9);
}

// The same bits whatever the thread count (each row is summed in one fixed order).
TEST(Gemv, BitwiseIndependentOfThreadCount) {
  Generator g(11);
  const int64_t n = 523, k = 4099;  // above the 2^21 multiply-adds where the rows are split
  Tensor w = randn({n, k}, &g), x = randn({k}, &g), b = randn({n}, &g);
  const int saved = num_threads();
  std::vector<float> y1(n), y2(n);
  set_num_threads(1);
  kernels::gemv(n, k, w.data<float>(), k, x.data<float>(), b.data<float>(), false, y1.data());
  set_num_threads(std::max(saved, 2));
  kernels::gemv(n, k, w.data<float>(), k, x.data<float>(), b.data<float>(), false, y2.data());
  set_num_threads(saved);
  EXPECT_EQ(y1, y2);
  // A row alone (the single-row tail path) gives the same bits as inside a 4-row block.
  std::vector<float> y3(1);
  kernels::gemv(1, k, w.data<float>() + 5 * k, k, x.data<float>(), b.data<float>() + 5, false, y3.data());
  EXPECT_EQ(y3[0], y1[5]);
}

// relu keeps NaN (like ember::relu) and maps negative sums to 0.
TEST(Gemv, ReluKeepsNan) {
  std::vector<float> w = {1.f, 2.f, -1.f, -2.f, 1.f, 0.f};
  std::vector<float> x = {1.f, std::numeric_limits<float>::quiet_NaN()};
  std::vector<float> y(3);
  kernels::gemv(3, 2, w.data(), 2, x.data(), nullptr, true, y.data());
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_TRUE(std::isnan(y[1]));
  x = {-1.f, 3.f};
  kernels::gemv(3, 2, w.data(), 2, x.data(), nullptr, true, y.data());
  EXPECT_EQ(y[0], 5.f);
  EXPECT_EQ(y[1], 0.f);
  EXPECT_EQ(y[2], 0.f);
}

TEST(Gemv, DoubleMatchesReference) {
  Generator g(5);
  Tensor w = randn({7, 13}, &g, DType::Float64), x = randn({13}, &g, DType::Float64);
  Tensor b = randn({7}, &g, DType::Float64);
  std::vector<double> y(7), r(7);
  kernels::gemv(7, 13, w.data<double>(), 13, x.data<double>(), b.data<double>(), true, y.data());
  kernels::gemv_ref<double>(7, 13, w.data<double>(), 13, x.data<double>(), b.data<double>(), true, r.data());
  // Not bitwise: the compiler may contract a * b + c into an FMA in one copy of the loop and not the other.
  for (int i = 0; i < 7; ++i) EXPECT_NEAR(y[i], r[i], 1e-12);
}

// Batch-1 linear (the gemv path) against the batched GEMM path, for 1-D, (1, in) and (1, 1, in) inputs, a
// non-contiguous input row, no bias, and linear_relu with and without gradient recording.
TEST(Gemv, LinearBatchOneMatchesGemmPath) {
  Generator g(21);
  for (int64_t in : {1, 5, 17, 784, 5413})
    for (int64_t out : {1, 3, 10, 130}) {
      Tensor w = randn({out, in}, &g), b = randn({out}, &g);
      Tensor xs = randn({3, in}, &g);
      Tensor batched = linear(xs, w, b);  // GEMM path (3 rows)
      Tensor batched_nb = linear(xs, w);
      for (int64_t r = 0; r < 3; ++r) {
        Tensor row = slice(xs, 0, r, r + 1);  // (1, in)
        auto ref = slice(batched, 0, r, r + 1).to_vector<float>();
        auto ref_nb = slice(batched_nb, 0, r, r + 1).to_vector<float>();
        auto got = linear(row, w, b).to_vector<float>();
        auto got1d = linear(reshape(row, {in}), w, b).to_vector<float>();
        auto got3d = linear(reshape(row, {1, 1, in}), w, b).to_vector<float>();
        auto got_nb = linear(row, w).to_vector<float>();
        Tensor relu_ref = relu(linear(row, w, b));
        Tensor fused;
        {
          NoGradGuard ng;
          fused = linear_relu(row, w, b);
        }
        ASSERT_EQ(got.size(), size_t(out));
        for (int64_t j = 0; j < out; ++j) {
          const float tol = 1e-4f * std::sqrt(float(in));
          EXPECT_NEAR(got[j], ref[j], tol);
          EXPECT_NEAR(got_nb[j], ref_nb[j], tol);
          EXPECT_EQ(got1d[j], got[j]);
          EXPECT_EQ(got3d[j], got[j]);
        }
        EXPECT_EQ(fused.to_vector<float>(), relu_ref.to_vector<float>());
        EXPECT_EQ(fused.shape(), relu_ref.shape());
      }
      // A column of a transposed matrix: a strided (1, in) input is copied first.
      Tensor xt = transpose(randn({in, 2}, &g), 0, 1);
      Tensor row = slice(xt, 0, 1, 2);
      EXPECT_EQ(linear(row, w, b).to_vector<float>(), linear(contiguous(row), w, b).to_vector<float>());
    }
}

// linear_relu on a batch (the GEMM path with the relu pass) and with gradients (relu(linear) recorded).
TEST(Gemv, LinearReluBatchedAndWithGrad) {
  Generator g(22);
  Tensor x = randn({6, 9}, &g), w = randn({5, 9}, &g), b = randn({5}, &g);
  Tensor ref = relu(linear(x, w, b));
  Tensor fused;
  {
    NoGradGuard ng;
    fused = linear_relu(x, w, b);
  }
  EXPECT_EQ(fused.to_vector<float>(), ref.to_vector<float>());
  Tensor w1 = copy_as(w, DType::Float32).requires_grad_(), w2 = copy_as(w, DType::Float32).requires_grad_();
  Tensor y1 = linear_relu(x, w1, b), y2 = relu(linear(x, w2, b));
  EXPECT_EQ(y1.to_vector<float>(), y2.to_vector<float>());
  Tensor gout = randn({6, 5}, &g);
  y1.backward(gout);
  y2.backward(gout);
  EXPECT_EQ(w1.grad().to_vector<float>(), w2.grad().to_vector<float>());
}
