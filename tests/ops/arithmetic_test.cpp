#include <gtest/gtest.h>

#include "op_table.h"

using namespace ember;
using test::Inputs;

static test::OpCaseRegistrar rows({
    {"add_same", "add", [](const Inputs& x) { return x[0] + x[1]; }},
    {"add_broadcast", "add", [](const Inputs& x) { return x[0] + x[1]; }},
    {"add_scalar", "add", [](const Inputs& x) { return x[0] + 1.5; }},
    {"sub_broadcast", "sub", [](const Inputs& x) { return x[0] - x[1]; }},
    {"sub_rscalar", "sub", [](const Inputs& x) { return 2.0 - x[0]; }},
    {"mul_broadcast", "mul", [](const Inputs& x) { return x[0] * x[1]; }},
    {"mul_scalar", "mul", [](const Inputs& x) { return x[0] * -0.5; }},
    {"div_broadcast", "div", [](const Inputs& x) { return x[0] / x[1]; }},
    {"div_rscalar", "div", [](const Inputs& x) { return 3.0 / x[0]; }},
    {"neg", "neg", [](const Inputs& x) { return -x[0]; }},
});

TEST(Arithmetic, ShapeMismatchNamesOpAndShapes) {
  try {
    add(zeros({2, 3}), zeros({4}));
    FAIL();
  } catch (const ShapeError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("add"), std::string::npos);
    EXPECT_NE(m.find("(2, 3)"), std::string::npos);
    EXPECT_NE(m.find("(4,)"), std::string::npos);
  }
  EXPECT_THROW(mul(zeros({2}), zeros({2}, DType::Float64)), DTypeError);
  EXPECT_THROW(add(zeros({2}, DType::Int64), zeros({2}, DType::Int64)), DTypeError);
}

TEST(Arithmetic, StridedInputs) {
  Tensor a = reshape(arange(0, 6, 1), {2, 3});
  Tensor t = transpose(a, 0, 1);  // (3, 2), not contiguous
  Tensor r = t + ones({3, 2});
  EXPECT_EQ(r.to_vector<float>(), (std::vector<float>{1, 4, 2, 5, 3, 6}));
}

TEST(Arithmetic, LargeParallelMatchesSerial) {
  Tensor a = randn({300, 1000});
  Tensor b = randn({1000});
  Tensor r = a * b;
  auto av = a.to_vector<float>(), bv = b.to_vector<float>(), rv = r.to_vector<float>();
  for (size_t i = 0; i < rv.size(); i += 997) EXPECT_EQ(rv[i], av[i] * bv[i % 1000]);
}
