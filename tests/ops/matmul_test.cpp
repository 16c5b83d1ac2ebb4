#include <gtest/gtest.h>

#include "ember/kernels/gemm.h"
#include "ember/kernels/parallel.h"
#include "op_table.h"

using namespace ember;
using test::Inputs;

static test::OpCaseRegistrar rows({
    {"matmul_2d", "matmul", [](const Inputs& x) { return matmul(x[0], x[1]); }},
    {"matmul_batched", "matmul", [](const Inputs& x) { return matmul(x[0], x[1]); }},
    {"matmul_broadcast_batch", "matmul", [](const Inputs& x) { return matmul(x[0], x[1]); }},
    {"matmul_fold_2d_rhs", "matmul", [](const Inputs& x) { return matmul(x[0], x[1]); }},
    {"matmul_vec_mat", "matmul", [](const Inputs& x) { return matmul(x[0], x[1]); }},
    {"matmul_mat_vec", "matmul", [](const Inputs& x) { return matmul(x[0], x[1]); }},
    {"matmul_dot", "matmul", [](const Inputs& x) { return matmul(x[0], x[1]); }},
    {"matmul_transposed_rhs", "matmul", [](const Inputs& x) { return matmul(x[0], transpose(x[1], 0, 1)); }},
});

// At two threads products above 2^18 multiply-adds are split in halves of C's rows (m >= n) or columns: odd
// sizes in both directions, every transpose combination.
TEST(Matmul, FastGemmMatchesReference) {
  const int saved = num_threads();
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    for (auto [m, n, k] :
         {std::tuple{128, 128, 784}, {33, 17, 65}, {1, 300, 7}, {37, 301, 129}, {301, 37, 129}}) {
      for (bool ta : {false, true})
        for (bool tb : {false, true}) {
          Tensor a = randn(ta ? Shape{k, m} : Shape{m, k});
          Tensor b = randn(tb ? Shape{n, k} : Shape{k, n});
          Tensor c1 = zeros({m, n}), c2 = zeros({m, n});
          int64_t lda = ta ? m : k, ldb = tb ? k : n;
          kernels::gemm(ta, tb, m, n, k, 1.f, a.data<float>(), lda, b.data<float>(), ldb, 0.f,
                        c1.data<float>(), n);
          kernels::gemm_ref<float>(ta, tb, m, n, k, 1.f, a.data<float>(), lda, b.data<float>(), ldb, 0.f,
                                   c2.data<float>(), n);
          auto v1 = c1.to_vector<float>(), v2 = c2.to_vector<float>();
          for (size_t i = 0; i < v1.size(); ++i)
            ASSERT_NEAR(v1[i], v2[i], 1e-3 * (1 + std::abs(v2[i])))
                << m << "x" << n << "x" << k << " ta " << ta << " tb " << tb << " threads " << threads;
        }
    }
  }
  set_num_threads(saved);
}

TEST(Matmul, ShapeErrorNamesBothShapes) {
  try {
    matmul(zeros({2, 3}), zeros({4, 5}));
    FAIL();
  } catch (const ShapeError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("matmul"), std::string::npos);
    EXPECT_NE(m.find("(2, 3)"), std::string::npos);
    EXPECT_NE(m.find("(4, 5)"), std::string::npos);
  }
  EXPECT_THROW(matmul(zeros({2, 3, 4}), zeros({3, 4, 2})), ShapeError);  // batch 2 vs 3
}

// Batched matmul splits the batch over threads for small matrices: every batch entry, broadcast or
// transposed, must still match the reference GEMM, at one thread and at two.
TEST(Matmul, BatchedParallelMatchesReference) {
  int saved = num_threads();
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    const int64_t nb = 7, m = 5, k = 6, n = 4;
    Tensor a = randn({nb, m, k});
    Tensor bt = randn({1, n, k});  // broadcast over the batch, fed as a transposed view
    Tensor out = matmul(a, transpose(bt, -1, -2));
    ASSERT_EQ(out.shape(), (Shape{nb, m, n}));
    std::vector<float> want(static_cast<size_t>(m * n));
    for (int64_t i = 0; i < nb; ++i) {
      kernels::gemm_ref<float>(false, true, m, n, k, 1.f, a.data<float>() + i * m * k, k, bt.data<float>(), k,
                               0.f, want.data(), n);
      const float* got = out.data<float>() + i * m * n;
      for (int64_t j = 0; j < m * n; ++j) ASSERT_NEAR(got[j], want[j], 1e-4 * (1 + std::abs(want[j]))) << i;
    }
  }
  set_num_threads(saved);
}
