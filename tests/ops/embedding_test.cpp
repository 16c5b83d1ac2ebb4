#include <gtest/gtest.h>

#include "ember/ops/conv.h"
#include "op_table.h"

using namespace ember;
using test::Inputs;

static test::OpCaseRegistrar rows({
    {"embedding_2d_indices", "embedding", [](const Inputs& x) { return embedding(x[0], x[1]); }},
    {"embedding_repeats", "embedding", [](const Inputs& x) { return embedding(x[0], x[1]); }},
    {"embedding_padding_idx", "embedding",
     [](const Inputs& x) {
       // Padding positions masked out (see tests/fixtures/op_cases/embedding.py).
       std::vector<double> keep;
       for (double v : x[1].to_double_vector()) keep.push_back(v != 1 ? 1.0 : 0.0);
       Shape s = x[1].shape();
       s.push_back(1);
       return mul(embedding(x[0], x[1], 1), copy_as(from_vector(keep, s), x[0].dtype()));
     }},
});

TEST(Embedding, OutOfRangeIndexNamesIndexAndVocabulary) {
  Tensor w = zeros({10, 4});
  try {
    embedding(w, from_vector(std::vector<int64_t>{3, 12}));
    FAIL();
  } catch (const IndexError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("embedding"), std::string::npos) << m;
    EXPECT_NE(m.find("12"), std::string::npos) << m;
    EXPECT_NE(m.find("10"), std::string::npos) << m;
  }
  EXPECT_THROW(embedding(w, from_vector(std::vector<int64_t>{-1})), IndexError);
  EXPECT_THROW(embedding(w, zeros({2})), DTypeError);
}

TEST(Embedding, PaddingRowGetsNoGradient) {
  Tensor w = randn({4, 2}).requires_grad_();
  Tensor idx = from_vector(std::vector<int64_t>{0, 2, 0, 2}, {2, 2});
  Tensor y = embedding(w, idx, -2);  // row 2
  EXPECT_EQ(y.shape(), (Shape{2, 2, 2}));
  sum(y).backward();
  EXPECT_EQ(w.grad().to_vector<float>(), (std::vector<float>{2, 2, 0, 0, 0, 0, 0, 0}));
}
