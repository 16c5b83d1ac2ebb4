#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

#include "optim_test_util.h"

using namespace ember;
using namespace ember::optim;
using namespace optim_test;

namespace {

std::vector<Tensor> params_with_grads(const nlohmann::json& fx) {
  std::vector<Tensor> ps;
  for (size_t i = 0; i < fx["shapes"].size(); ++i) {
    Shape s(fx["shapes"][i].get<std::vector<int64_t>>());
    Tensor p = zeros(s).requires_grad_();
    p.set_grad(from_vector(floats(fx["grads"][i]), s));
    ps.push_back(p);
  }
  return ps;
}

void expect_grads(const std::vector<Tensor>& ps, const nlohmann::json& want) {
  for (size_t i = 0; i < ps.size(); ++i) {
    std::vector<float> g = ps[i].grad().to_vector<float>();
    std::vector<double> w = want[i].get<std::vector<double>>();
    ASSERT_EQ(g.size(), w.size());
    for (size_t k = 0; k < w.size(); ++k)
      EXPECT_NEAR(g[k], w[k], 1e-6 * std::fabs(w[k]) + 1e-7) << i << "," << k;
  }
}

TEST(Clip, GradNormMatchesTorch) {
  nlohmann::json fx = load_fixture("clip.json");
  ASSERT_EQ(fx["norm_cases"].size(), 5u);
  for (const auto& c : fx["norm_cases"]) {
    double norm_type = c["norm_type"].is_string() ? kInfNorm : c["norm_type"].get<double>();
    SCOPED_TRACE(norm_type);
    auto ps = params_with_grads(fx);
    double total = clip_grad_norm_(ps, c["max_norm"].get<double>(), norm_type);
    EXPECT_NEAR(total, c["total_norm"].get<double>(), 1e-6 * c["total_norm"].get<double>());
    expect_grads(ps, c["clipped"]);
  }
}

TEST(Clip, GradValueMatchesTorch) {
  nlohmann::json fx = load_fixture("clip.json");
  for (const auto& c : fx["value_cases"]) {
    auto ps = params_with_grads(fx);
    clip_grad_value_(ps, c["clip_value"].get<double>());
    expect_grads(ps, c["clipped"]);
  }
}

TEST(Clip, EdgeCasesAndErrors) {
  Tensor a = zeros({2}).requires_grad_();
  EXPECT_EQ(clip_grad_norm_({a}, 1.0), 0.0);  // no gradients
  EXPECT_THROW(clip_grad_norm_({a}, 1.0, 0.0), ValueError);
  EXPECT_THROW(clip_grad_value_({a}, -1.0), ValueError);
  a.set_grad(from_vector(std::vector<float>{INFINITY, 1}));
  EXPECT_THROW(clip_grad_norm_({a}, 1.0, 2.0, /*error_if_nonfinite=*/true), ValueError);
}

TEST(Arena, PacksValuesContiguouslyAndAligned) {
  Tensor w = randn({5, 3}).requires_grad_();
  Tensor b = randn({3}).requires_grad_();
  Tensor wt = transpose(randn({2, 4}), 0, 1).detach().requires_grad_();  // non-contiguous parameter
  std::vector<float> w0 = w.to_vector<float>(), b0 = b.to_vector<float>(), t0 = wt.to_vector<float>();
  Tensor alias = w;  // another handle (as a module would hold)
  ParameterArena arena({w, b, wt});
  EXPECT_EQ(arena.numel(), 15 + 3 + 8);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(arena.data()) % 64, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(arena.grad_data()) % 64, 0u);
  EXPECT_EQ(w.to_vector<float>(), w0);
  EXPECT_EQ(b.to_vector<float>(), b0);
  EXPECT_EQ(wt.to_vector<float>(), t0);
  EXPECT_TRUE(wt.is_contiguous());
  EXPECT_EQ(alias.data<float>(), arena.data());
  EXPECT_EQ(b.data<float>(), arena.data() + 15);
  EXPECT_EQ(wt.data<float>(), arena.data() + 18);
  EXPECT_EQ(b.grad().data<float>(), arena.grad_data() + 15);
  EXPECT_TRUE(arena.intact());
  EXPECT_EQ(arena.flat().to_vector<float>()[15], b0[0]);
}

TEST(Arena, BackwardAccumulatesIntoTheArena) {
  Tensor w = from_vector(std::vector<float>{1, 2, 3}).requires_grad_();
  Tensor b = from_vector(std::vector<float>{0.5f}).requires_grad_();
  ParameterArena arena({w, b});
  Tensor x = from_vector(std::vector<float>{2, 3, 4});
  sum(w * x + b).backward();
  EXPECT_TRUE(arena.intact());
  std::vector<float> g = arena.flat_grad().to_vector<float>();
  EXPECT_EQ(g, (std::vector<float>{2, 3, 4, 3}));
  sum(w * x + b).backward();  // accumulates
  EXPECT_EQ(arena.flat_grad().to_vector<float>(), (std::vector<float>{4, 6, 8, 6}));
  SGD opt({w, b}, SGDOptions(0.1));
  opt.zero_grad();  // in place: still in the arena
  EXPECT_TRUE(arena.intact());
  EXPECT_EQ(arena.flat_grad().to_vector<float>(), (std::vector<float>{0, 0, 0, 0}));
  opt.zero_grad(true);
  EXPECT_FALSE(arena.intact());
  sum(w * x).backward();  // a fresh gradient outside the arena: the optimizer still works (per tensor)
  opt.step();
  EXPECT_FLOAT_EQ(w.at<float>({0}), 1.0f - 0.1f * 2.0f);
  arena.attach_grads();
  EXPECT_TRUE(arena.intact());
  EXPECT_EQ(arena.flat_grad().to_vector<float>(), (std::vector<float>{2, 3, 4, 0}));
  arena.zero_grad();
  EXPECT_EQ(arena.flat_grad().to_vector<float>(), (std::vector<float>{0, 0, 0, 0}));
}

TEST(Arena, BadInput) {
  Tensor a = zeros({2}).requires_grad_();
  EXPECT_THROW(ParameterArena(std::vector<Tensor>{}), ValueError);
  EXPECT_THROW(ParameterArena({a, a}), ValueError);
  EXPECT_THROW(ParameterArena({zeros({2}, DType::Float64)}), DTypeError);
}

}  // namespace
