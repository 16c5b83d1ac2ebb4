// The batch-1 matrix-vector kernel (kernels::gemv) against its reference, and the linear / linear_relu ops
// that use it, against the GEMM path.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>
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

// The seed CNN's 5408x128 layer (one thread), and a weight above 2^21 multiply-adds, large enough to split
// the rows over the threads (rows not a multiple of 4).
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

namespace {

// x with about half of its entries zero (some -0.0), the rest N(0, 1).
std::vector<float> half_zeros(int64_t k, Generator& g) {
  Tensor r = randn({std::max<int64_t>(k, 1)}, &g), u = rand({std::max<int64_t>(k, 1)}, &g);
  std::vector<float> x(k);
  for (int64_t p = 0; p < k; ++p) {
    const float up = u.data<float>()[p];
    x[p] = up < 0.4f ? 0.f : up < 0.5f ? -0.f : r.data<float>()[p];
  }
  return x;
}

}  // namespace

// The transposed kernel that skips zero inputs against a double reference, sizes around its 8-, 64- and
// 128-column blocks, with and without bias and relu, half-zero, all-zero and dense inputs.
TEST(GemvTransposed, MatchesReference) {
  Generator g(31);
  for (int64_t n : {1, 3, 8, 10, 63, 64, 65, 128, 130, 200, 257})
    for (int64_t k : {0, 1, 7, 9, 64, 784, n == 130 ? 5413 : 15}) {  // 5413: the nonzero list on the heap
      Tensor w = randn({n, std::max<int64_t>(k, 1)}, &g), b = randn({n}, &g);
      const float* pw = w.data<float>();
      std::vector<float> wt(std::max<int64_t>(k, 1) * kernels::gemv_transposed_ld(n), -7.f);
      ASSERT_TRUE(kernels::gemv_pack_transposed(n, k, pw, std::max<int64_t>(k, 1), wt.data()));
      for (int kind = 0; kind < 3; ++kind) {
        std::vector<float> x = half_zeros(k, g);
        if (kind == 1) std::fill(x.begin(), x.end(), 0.f);
        if (kind == 2) x = randn({std::max<int64_t>(k, 1)}, &g).to_vector<float>(), x.resize(k);
        for (int variant = 0; variant < 2; ++variant) {
          const bool relu = variant == 1;
          const float* pb = variant == 0 ? b.data<float>() : nullptr;
          std::vector<float> y(n + 1, 12345.f);
          ASSERT_TRUE(
              kernels::gemv_transposed_skip_zeros(n, k, wt.data(), x.data(), pb, relu, y.data(), 1.0));
          for (int64_t j = 0; j < n; ++j) {
            double acc = 0, mag = 0;
            for (int64_t p = 0; p < k; ++p) {
              acc += double(pw[j * std::max<int64_t>(k, 1) + p]) * x[p];
              mag += std::abs(double(pw[j * std::max<int64_t>(k, 1) + p]) * x[p]);
            }
            if (pb) acc += pb[j], mag += std::abs(pb[j]);
            if (relu && acc < 0) acc = 0;
            EXPECT_NEAR(y[j], acc, 1e-6 * (mag + 1)) << "n=" << n << " k=" << k << " kind " << kind;
          }
          EXPECT_EQ(y[n], 12345.f) << "wrote past the output, n=" << n << " k=" << k;
        }
      }
    }
}

// Too many nonzero inputs: nothing written, false returned (the caller runs gemv). NaN inputs are kept (they
// count as nonzero and reach the output as in the dense product).
TEST(GemvTransposed, DensityLimitAndNanInput) {
  Generator g(32);
  const int64_t n = 16, k = 40;
  Tensor w = randn({n, k}, &g);
  std::vector<float> wt(k * kernels::gemv_transposed_ld(n));
  ASSERT_TRUE(kernels::gemv_pack_transposed(n, k, w.data<float>(), k, wt.data()));
  std::vector<float> x = randn({k}, &g).to_vector<float>(), y(n, 5.f);
  EXPECT_FALSE(kernels::gemv_transposed_skip_zeros(n, k, wt.data(), x.data(), nullptr, false, y.data(), 0.5));
  EXPECT_EQ(y, std::vector<float>(n, 5.f));
  std::fill(x.begin(), x.end(), 0.f);
  x[3] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_TRUE(kernels::gemv_transposed_skip_zeros(n, k, wt.data(), x.data(), nullptr, true, y.data(), 0.5));
  for (float v : y) EXPECT_TRUE(std::isnan(v));
}

// pack reports a weight with inf or NaN (0 * inf is NaN in the dense product, so the skip is not exact).
TEST(GemvTransposed, PackReportsNonFinite) {
  std::vector<float> w(6 * 5, 1.f), wt(5 * kernels::gemv_transposed_ld(6));
  EXPECT_TRUE(kernels::gemv_pack_transposed(6, 5, w.data(), 5, wt.data()));
  EXPECT_EQ(wt[2 * kernels::gemv_transposed_ld(6) + 7], 0.f);  // padding column
  w[13] = std::numeric_limits<float>::infinity();
  EXPECT_FALSE(kernels::gemv_pack_transposed(6, 5, w.data(), 5, wt.data()));
  w[13] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(kernels::gemv_pack_transposed(6, 5, w.data(), 5, wt.data()));
}

namespace {

// linear / linear_relu with a LinearWeightCache against the same ops without one, batch 1, no gradient.
void expect_cached_matches(const Tensor& x, const Tensor& w, const Tensor& b, LinearWeightCache& cache,
                           const char* what) {
  NoGradGuard ng;
  auto ref = linear(x, w, b).to_vector<float>();
  auto ref_relu = linear_relu(x, w, b).to_vector<float>();
  auto got = linear(x, w, b, &cache).to_vector<float>();
  auto got_relu = linear_relu(x, w, b, &cache).to_vector<float>();
  ASSERT_EQ(got.size(), ref.size());
  for (size_t j = 0; j < ref.size(); ++j) {
    if (std::isnan(ref[j])) {
      EXPECT_TRUE(std::isnan(got[j])) << what << " j=" << j;
      EXPECT_TRUE(std::isnan(got_relu[j])) << what << " j=" << j;
      continue;
    }
    EXPECT_NEAR(got[j], ref[j], 1e-4f) << what << " j=" << j;
    EXPECT_NEAR(got_relu[j], ref_relu[j], 1e-4f) << what << " j=" << j;
  }
}

}  // namespace

// The cached transposed weight: built after the first call, used afterwards, and rebuilt after every kind of
// in-place update Ember records (copy_into, fill_, set, an optimizer-style bump) or a new weight tensor; a
// weight with inf never uses it.
TEST(GemvTransposed, LinearCacheFollowsWeightUpdates) {
  Generator g(33);
  const int64_t out = 128, in = 784;  // 100k elements: in the cached range
  Tensor w = randn({out, in}, &g), b = randn({out}, &g);
  std::vector<float> xv = half_zeros(in, g);
  Tensor x = from_vector(xv, {1, in});
  LinearWeightCache cache;
  for (int i = 0; i < 3; ++i) expect_cached_matches(x, w, b, cache, "initial");
  copy_into(w, randn({out, in}, &g));
  for (int i = 0; i < 3; ++i) expect_cached_matches(x, w, b, cache, "after copy_into");
  w.set({5, 7}, 3.0);
  expect_cached_matches(x, w, b, cache, "after set");
  fill_(w, 0.25);
  expect_cached_matches(x, w, b, cache, "after fill_");
  // A write through the data pointer followed by bump_version (what the optimizers do).
  float* pw = w.data<float>();
  for (int64_t i = 0; i < out * in; ++i) pw[i] = float(i % 7) - 3.f;
  w.bump_version();
  for (int i = 0; i < 3; ++i) expect_cached_matches(x, w, b, cache, "after bump_version");
  // Another tensor (also one with the same values: a separate storage).
  Tensor w2 = randn({out, in}, &g);
  for (int i = 0; i < 3; ++i) expect_cached_matches(x, w2, b, cache, "new weight");
  Tensor w3 = clone(w2);
  for (int i = 0; i < 3; ++i) expect_cached_matches(x, w3, b, cache, "clone");
  // inf in the column of a zero input: the dense product gives NaN there, so must the cached path.
  int64_t zero_col = 0;
  while (xv[zero_col] != 0.f) ++zero_col;
  w3.set({9, zero_col}, std::numeric_limits<double>::infinity());
  for (int i = 0; i < 3; ++i) expect_cached_matches(x, w3, b, cache, "inf weight");
  {
    NoGradGuard ng;
    EXPECT_TRUE(std::isnan(linear(x, w3, b, &cache).to_vector<float>()[9]));
  }
  w3.set({9, zero_col}, std::numeric_limits<double>::quiet_NaN());
  for (int i = 0; i < 3; ++i) expect_cached_matches(x, w3, b, cache, "nan weight");
  w3.set({9, zero_col}, 1.0);
  for (int i = 0; i < 3; ++i) expect_cached_matches(x, w3, b, cache, "finite again");
  // A dense input (above the density limit) falls back to gemv.
  Tensor xd = randn({1, in}, &g);
  for (int i = 0; i < 2; ++i) expect_cached_matches(xd, w3, b, cache, "dense input");
}

// Above 2^18 multiply-adds with 2+ threads the nonzero rows are summed in two fixed halves (split_run): the
// same bits on every call, whether the spinning helper took a half or the caller ran both (after a pause the
// helper is asleep and usually too late), and close to the double reference.
TEST(GemvTransposed, SplitHalvesAreDeterministic) {
  Generator g(41);
  const int64_t n = 128, k = 5408;
  Tensor w = randn({n, k}, &g), b = randn({n}, &g);
  std::vector<float> wt(k * kernels::gemv_transposed_ld(n));
  ASSERT_TRUE(kernels::gemv_pack_transposed(n, k, w.data<float>(), k, wt.data()));
  std::vector<float> x = half_zeros(k, g);
  const int saved = num_threads();
  set_num_threads(std::max(saved, 2));
  std::vector<float> first(n), y(n);
  ASSERT_TRUE(kernels::gemv_transposed_skip_zeros(n, k, wt.data(), x.data(), b.data<float>(), false,
                                                  first.data(), 1.0));
  for (int r = 0; r < 300; ++r) {
    if (r % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ASSERT_TRUE(kernels::gemv_transposed_skip_zeros(n, k, wt.data(), x.data(), b.data<float>(), false,
                                                    y.data(), 1.0));
    ASSERT_EQ(y, first) << "call " << r;
  }
  set_num_threads(saved);
  const float* pw = w.data<float>();
  for (int64_t j = 0; j < n; ++j) {
    double acc = b.data<float>()[j], mag = std::abs(acc);
    for (int64_t p = 0; p < k; ++p)
      acc += double(pw[j * k + p]) * x[p], mag += std::abs(double(pw[j * k + p]) * x[p]);
    EXPECT_NEAR(first[j], acc, 1e-6 * (mag + 1)) << "row " << j;
  }
}

// split_run calls every chunk exactly once per call: back to back (helper spinning), after pauses (helper
// asleep), from two threads at once (one of them runs inline), and when a chunk calls it again (inline).
TEST(SplitRun, RunsEachChunkOnce) {
  const int saved = num_threads();
  set_num_threads(std::max(saved, 2));
  auto check = [](int calls, bool pauses) {
    for (int r = 0; r < calls; ++r) {
      const int64_t chunks = 1 + r % 5;
      std::vector<std::atomic<int>> hits(static_cast<size_t>(chunks));
      for (auto& h : hits) h = 0;
      split_run(chunks, [&](int64_t i) { hits[size_t(i)].fetch_add(1); });
      for (int64_t i = 0; i < chunks; ++i) ASSERT_EQ(hits[size_t(i)].load(), 1) << "chunk " << i;
      if (pauses && r % 20 == 0) std::this_thread::sleep_for(std::chrono::microseconds(300));
    }
  };
  check(2000, false);
  check(200, true);
  std::thread other([&] { check(1000, false); });
  check(1000, false);
  other.join();
  std::atomic<int> inner{0};
  split_run(2, [&](int64_t) { split_run(3, [&](int64_t) { inner.fetch_add(1); }); });
  EXPECT_EQ(inner.load(), 6);
  set_num_threads(saved);
}

// An exception thrown in a chunk (on either thread) reaches the caller after the other chunks are done, and
// the helper is usable afterwards; parallel_for on two threads goes the same way.
TEST(SplitRun, ExceptionReachesCallerAndPoolStaysUsable) {
  const int saved = num_threads();
  set_num_threads(std::max(saved, 2));
  for (int64_t bad : {0, 1}) {
    std::atomic<int> ran{0};
    EXPECT_THROW(split_run(2,
                           [&](int64_t i) {
                             ran.fetch_add(1);
                             if (i == bad) throw std::runtime_error("chunk failed");
                           }),
                 std::runtime_error);
    EXPECT_GE(ran.load(), 1);
  }
  EXPECT_THROW(parallel_for(0, 100, 0,
                            [&](int64_t lo, int64_t) {
                              if (lo > 0) throw std::runtime_error("second half failed");
                            }),
               std::runtime_error);
  std::vector<std::atomic<int>> hits(static_cast<size_t>(4));
  for (auto& h : hits) h = 0;
  split_run(4, [&](int64_t i) { hits[size_t(i)].fetch_add(1); });
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
  set_num_threads(saved);
}
