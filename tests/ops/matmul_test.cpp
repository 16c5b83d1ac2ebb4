#include <gtest/gtest.h>

#include "ember/kernels/gemm.h"
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

TEST(Matmul, FastGemmMatchesReference) {
  for (auto [m, n, k] : {std::tuple{128, 128, 784}, {33, 17, 65}, {1, 300, 7}}) {
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        Tensor a = randn(ta ? Shape{k, m} : Shape{m, k});
        Tensor b = randn(tb ? Shape{n, k} : Shape{k, n});
        Tensor c1 = zeros({m, n}), c2 = zeros({m, n});
        int64_t lda = ta ? m : k, ldb = tb ? k : n;
        kernels::gemm(ta, tb, m, n, k, 1.f, a.data<float>(), lda, b.data<float>(), ldb, 0.f, c1.data<float>(), n);
        kernels::gemm_ref<float>(ta, tb, m, n, k, 1.f, a.data<float>(), lda, b.data<float>(), ldb, 0.f,
                                 c2.data<float>(), n);
        auto v1 = c1.to_vector<float>(), v2 = c2.to_vector<float>();
        for (size_t i = 0; i < v1.size(); ++i) ASSERT_NEAR(v1[i], v2[i], 1e-3 * (1 + std::abs(v2[i])));
      }
  }
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
