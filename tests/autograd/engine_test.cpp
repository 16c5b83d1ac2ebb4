// The backward engine, exercised through small hand-written nodes so that this test needs only the autograd
// layer (the ops have their own tests).
#include <gtest/gtest.h>

#include <cmath>

#include "ember/autograd/node.h"
#include "ember/core/random.h"

using namespace ember;

namespace {
// y = 2 * x (elementwise), written against the engine's interface.
struct Twice : autograd::Node {
  const char* name() const override { return "twice"; }
  std::vector<Tensor> apply(const Tensor& g) override {
    Tensor r = empty_like(g);
    auto gv = g.to_vector<double>();
    for (int64_t i = 0; i < g.numel(); ++i) r.data<float>()[i] = static_cast<float>(2 * gv[i]);
    return {r};
  }
};
Tensor twice(const Tensor& x) {
  Tensor out = empty_like(x);
  auto xv = x.to_vector<double>();
  for (int64_t i = 0; i < x.numel(); ++i) out.data<float>()[i] = static_cast<float>(2 * xv[i]);
  if (autograd::any_requires_grad({&x})) autograd::record(std::make_shared<Twice>(), {&x}, out);
  return out;
}
// z = x + y, saving x so that freeing and in-place checks can be observed.
struct AddSaving : autograd::Node {
  SavedTensor saved;
  const char* name() const override { return "add_saving"; }
  std::vector<Tensor> apply(const Tensor& g) override {
    saved.get(this);
    return {g, g};
  }
  void release_saved() override { saved.reset(); }
};
Tensor add_saving(const Tensor& x, const Tensor& y) {
  Tensor out = empty_like(x);
  for (int64_t i = 0; i < x.numel(); ++i) out.data<float>()[i] = x.data<float>()[i] + y.data<float>()[i];
  if (autograd::any_requires_grad({&x, &y})) {
    auto n = std::make_shared<AddSaving>();
    n->saved = SavedTensor(x);
    autograd::record(n, {&x, &y}, out);
  }
  return out;
}
}  // namespace

TEST(Autograd, ChainAndAccumulation) {
  Tensor x = tensor({1, 2, 3}).requires_grad_();
  Tensor y = twice(twice(x));
  EXPECT_FALSE(y.is_leaf());
  y.backward(ones({3}));
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{4, 4, 4}));
  // A second graph accumulates into .grad.
  twice(x).backward(ones({3}));
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{6, 6, 6}));
  x.zero_grad();
  EXPECT_FALSE(x.grad().defined());
}

TEST(Autograd, DiamondSumsGradients) {
  Tensor x = tensor({1, 1}).requires_grad_();
  Tensor a = twice(x);
  Tensor z = add_saving(a, twice(a));  // z = 2x + 4x
  z.backward(ones({2}));
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{6, 6}));
}

TEST(Autograd, ScalarRequiredWithoutGrad) {
  Tensor x = tensor({1, 2}).requires_grad_();
  EXPECT_THROW(twice(x).backward(), AutogradError);
  Tensor s = tensor({3}).requires_grad_();
  twice(s).backward();
  EXPECT_EQ(s.grad().item(), 2.0);
  EXPECT_THROW(twice(x).backward(ones({3})), ShapeError);
}

TEST(Autograd, SecondBackwardThroughFreedGraphIsAnError) {
  Tensor x = tensor({1, 2}).requires_grad_();
  Tensor y = tensor({1, 2}).requires_grad_();
  Tensor z = add_saving(x, y);
  z.backward(ones({2}));
  try {
    z.backward(ones({2}));
    FAIL() << "expected AutogradError";
  } catch (const AutogradError& e) {
    EXPECT_NE(std::string(e.what()).find("retain_graph"), std::string::npos);
  }
  Tensor z2 = add_saving(x, y);
  z2.backward(ones({2}), /*retain_graph=*/true);
  z2.backward(ones({2}));
  EXPECT_EQ(x.grad().to_vector<float>(), (std::vector<float>{3, 3}));
}

TEST(Autograd, InPlaceChangeOfSavedTensorIsDetected) {
  Tensor x = tensor({1, 2}).requires_grad_();
  Tensor y = tensor({1, 2});
  Tensor z = add_saving(x, y);
  x.set({0}, 5.0);
  EXPECT_THROW(z.backward(ones({2})), AutogradError);
}

TEST(Autograd, NoGradGuardAndDetach) {
  Tensor x = tensor({1, 2}).requires_grad_();
  {
    NoGradGuard guard;
    Tensor y = twice(x);
    EXPECT_FALSE(y.requires_grad());
    EXPECT_EQ(y.grad_fn(), nullptr);
  }
  Tensor y = twice(x);
  EXPECT_TRUE(y.requires_grad());
  Tensor d = y.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_EQ(d.storage(), y.storage());
  EXPECT_THROW(y.requires_grad_(false), AutogradError);
  EXPECT_THROW(empty({2}, DType::Int64).requires_grad_(), AutogradError);
}

TEST(Autograd, GradFunctionDoesNotTouchLeaves) {
  Tensor x = tensor({1, 2}).requires_grad_();
  Tensor y = twice(twice(x));
  auto g = autograd::grad(y, {x}, ones({2}));
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].to_vector<float>(), (std::vector<float>{4, 4}));
  EXPECT_FALSE(x.grad().defined());
}

TEST(Autograd, UserSeedGradientIsNotAliased) {
  Tensor x = tensor({1, 2}).requires_grad_();
  Tensor y = add_saving(x, tensor({0, 0}));
  Tensor seed = ones({2});
  y.backward(seed);
  x.grad().set({0}, 9.0);
  EXPECT_EQ(seed.at({0}), 1.0);
}

TEST(Autograd, AnomalyModeNamesTheOp) {
  AnomalyMode::set_enabled(true);
  Tensor x = tensor({std::nanf(""), 1}).requires_grad_();
  try {
    twice(x);
    FAIL() << "expected AutogradError";
  } catch (const AutogradError& e) {
    EXPECT_NE(std::string(e.what()).find("twice"), std::string::npos);
  }
  AnomalyMode::set_enabled(false);
}
