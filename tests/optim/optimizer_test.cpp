#include <gtest/gtest.h>

#include <cmath>

#include "ember/core/allocator.h"
#include "ember/kernels/parallel.h"
#include "optim_test_util.h"

using namespace ember;
using namespace ember::optim;
using namespace optim_test;

namespace {

std::vector<ParamGroup> groups_for(const nlohmann::json& c, const Regression& r) {
  if (c.contains("group1_options"))
    return {ParamGroup{{r.W}, option_map(c["options"])}, ParamGroup{{r.b}, option_map(c["group1_options"])}};
  return {ParamGroup{{r.W, r.b}, option_map(c["options"])}};
}

void expect_close(const std::vector<float>& got, const nlohmann::json& want, const std::string& what) {
  std::vector<double> w = want.get<std::vector<double>>();
  ASSERT_EQ(got.size(), w.size()) << what;
  for (size_t i = 0; i < w.size(); ++i)
    EXPECT_NEAR(got[i], w[i], 1e-5 * std::fabs(w[i]) + 1e-6) << what << " element " << i;
}

// Runs `steps` steps and returns the flattened W and b after each.
std::vector<std::vector<float>> run(Optimizer& opt, const Regression& r, int steps) {
  std::vector<std::vector<float>> out;
  for (int s = 0; s < steps; ++s) {
    opt.zero_grad();
    r.backward();
    opt.step();
    std::vector<float> v = r.W.to_vector<float>();
    std::vector<float> bv = r.b.to_vector<float>();
    v.insert(v.end(), bv.begin(), bv.end());
    out.push_back(v);
  }
  return out;
}

TEST(Optimizers, TrajectoriesMatchTorch) {
  nlohmann::json fx = load_fixture("optimizers.json");
  ASSERT_GE(fx["cases"].size(), 16u);
  for (const auto& c : fx["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    Regression r(fx);
    auto opt = make_optimizer(c["optimizer"], groups_for(c, r));
    for (size_t s = 0; s < c["trajectory"].size(); ++s) {
      opt->zero_grad();
      r.backward();
      opt->step();
      expect_close(r.W.to_vector<float>(), c["trajectory"][s]["W"], "W at step " + std::to_string(s + 1));
      expect_close(r.b.to_vector<float>(), c["trajectory"][s]["b"], "b at step " + std::to_string(s + 1));
    }
  }
}

// The arena path (one fused loop over W and b) must give bitwise the same trajectory as per-tensor updates.
TEST(Optimizers, ArenaPathMatchesPerTensorPath) {
  nlohmann::json fx = load_fixture("optimizers.json");
  for (const auto& c : fx["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    Regression plain(fx), packed(fx);
    ParameterArena arena({packed.W, packed.b});
    ASSERT_TRUE(arena.intact());
    auto a = make_optimizer(c["optimizer"], groups_for(c, plain));
    auto b = make_optimizer(c["optimizer"], groups_for(c, packed));
    auto ta = run(*a, plain, 20);
    auto tb = run(*b, packed, 20);
    EXPECT_TRUE(arena.intact());
    EXPECT_EQ(b->last_step_loops(), b->num_groups());  // W and b updated in one loop per group
    EXPECT_EQ(a->last_step_loops(), 2u);
    EXPECT_EQ(ta, tb);
  }
}

TEST(Optimizers, StateDictRoundTripContinuesIdentically) {
  nlohmann::json fx = load_fixture("optimizers.json");
  for (const auto& c : fx["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    Regression r(fx);
    auto opt = make_optimizer(c["optimizer"], groups_for(c, r));
    run(*opt, r, 10);
    OptimizerStateDict sd = opt->state_dict();
    // A fresh problem at the same parameter values, with a fresh optimizer of default options.
    Regression r2(fx);
    copy_into(r2.W, r.W);
    copy_into(r2.b, r.b);
    std::vector<ParamGroup> g2 = groups_for(c, r2);
    for (auto& g : g2) g.options = {{"lr", 123.0}};  // overwritten by the loaded state
    auto opt2 = make_optimizer(c["optimizer"], g2);
    opt2->load_state_dict(sd);
    EXPECT_EQ(opt2->lr(0), opt->lr(0));
    auto cont = run(*opt, r, 10);
    auto resumed = run(*opt2, r2, 10);
    EXPECT_EQ(cont, resumed);
    // And the result still follows torch's uninterrupted run.
    expect_close(r2.W.to_vector<float>(), c["trajectory"][19]["W"], "W after resume");
  }
}

TEST(Optimizers, StateDictNamesAndMismatches) {
  nlohmann::json fx = load_fixture("optimizers.json");
  Regression r(fx);
  Adam opt({r.W, r.b}, AdamOptions(0.01).amsgrad(true));
  OptimizerStateDict empty_state = opt.state_dict();
  EXPECT_TRUE(empty_state.tensors.empty());
  run(opt, r, 2);
  OptimizerStateDict sd = opt.state_dict();
  EXPECT_EQ(sd.tensors.size(), 6u);
  ASSERT_TRUE(sd.tensors.count("state.1.exp_avg"));
  EXPECT_EQ(sd.tensors["state.1.exp_avg"].shape(), Shape({3}));
  EXPECT_EQ(sd.tensors["state.0.max_exp_avg_sq"].shape(), Shape({4, 3}));
  EXPECT_EQ(sd.scalars["state.0.step"], 2.0);
  EXPECT_EQ(sd.scalars["param_groups.0.lr"], 0.01);
  EXPECT_EQ(sd.scalars["param_groups.0.num_params"], 2.0);
  EXPECT_EQ(sd.scalars["num_param_groups"], 1.0);

  auto expect_msg = [&](const OptimizerStateDict& bad, const std::string& needle) {
    Regression r2(fx);
    Adam o2({r2.W, r2.b}, AdamOptions(0.01).amsgrad(true));
    try {
      o2.load_state_dict(bad);
      ADD_FAILURE() << "expected ValueError containing " << needle;
    } catch (const ValueError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  OptimizerStateDict bad = sd;
  bad.tensors.erase("state.1.exp_avg_sq");
  expect_msg(bad, "state.1.exp_avg_sq");
  bad = sd;
  bad.tensors["state.0.exp_avg"] = zeros({3, 4});
  expect_msg(bad, "state.0.exp_avg' has shape (3, 4)");
  bad = sd;
  bad.scalars["param_groups.0.num_params"] = 3;
  expect_msg(bad, "3 parameters");
  bad = sd;
  bad.scalars["num_param_groups"] = 2;
  expect_msg(bad, "2 parameter groups");
  bad = sd;
  bad.scalars["param_groups.0.beta2"] = 1.5;
  expect_msg(bad, "beta parameter at index 1");
}

TEST(Optimizers, ParamsWithoutGradAreSkipped) {
  Tensor a = from_vector(std::vector<float>{1, 2}).requires_grad_();
  Tensor b = from_vector(std::vector<float>{3, 4}).requires_grad_();
  SGD opt({a, b}, SGDOptions(0.5).weight_decay(0.1));
  a.set_grad(from_vector(std::vector<float>{1, 1}));
  opt.step();
  EXPECT_FLOAT_EQ(a.at<float>({0}), 1.0f - 0.5f * (1.0f + 0.1f * 1.0f));
  EXPECT_EQ(b.to_vector<float>(), (std::vector<float>{3, 4}));
  EXPECT_EQ(opt.param_step(0), 1);
  EXPECT_EQ(opt.param_step(1), 0);
}

TEST(Optimizers, ZeroGradInPlaceAndToNone) {
  Tensor a = from_vector(std::vector<float>{1, 2}).requires_grad_();
  SGD opt({a}, SGDOptions(0.1));
  a.set_grad(from_vector(std::vector<float>{5, 6}));
  Tensor g = a.grad();
  opt.zero_grad();
  EXPECT_TRUE(a.grad().same(g));
  EXPECT_EQ(g.to_vector<float>(), (std::vector<float>{0, 0}));
  opt.zero_grad(true);
  EXPECT_FALSE(a.grad().defined());
}

TEST(Optimizers, LrGetSetAndGroups) {
  Tensor a = zeros({2}).requires_grad_();
  Tensor b = zeros({3}).requires_grad_();
  Adam opt({ParamGroup{{a}, {}}, ParamGroup{{b}, {{"lr", 0.5}}}}, AdamOptions(0.1));
  EXPECT_EQ(opt.num_groups(), 2u);
  EXPECT_DOUBLE_EQ(opt.lr(0), 0.1);
  EXPECT_DOUBLE_EQ(opt.lr(1), 0.5);
  opt.set_lr(0.2, 1);
  EXPECT_DOUBLE_EQ(opt.lr(1), 0.2);
  opt.set_lr(0.3);
  EXPECT_DOUBLE_EQ(opt.lr(0), 0.3);
  EXPECT_THROW(opt.lr(2), IndexError);
  EXPECT_THROW(opt.set_lr(-1.0), ValueError);
  Tensor c = zeros({1}).requires_grad_();
  opt.add_param_group({c}, {{"weight_decay", 0.1}});
  EXPECT_EQ(opt.num_params(), 3);
  EXPECT_THROW(opt.add_param_group({a}), ValueError);  // already optimised
  EXPECT_EQ(opt.name(), "Adam");
  AdamW w({a}, AdamWOptions());
  EXPECT_EQ(w.name(), "AdamW");
  EXPECT_DOUBLE_EQ(w.param_groups()[0].options.at("weight_decay"), 0.01);
}

std::string value_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const ValueError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected ValueError";
  return "";
}

TEST(Optimizers, BadOptionsThrowValueError) {
  Tensor a = zeros({2}).requires_grad_();
  std::vector<Tensor> p{a};
  EXPECT_NE(value_error([&] { SGD(p, SGDOptions(-0.1)); }).find("Invalid learning rate: -0.1"),
            std::string::npos);
  EXPECT_NE(value_error([&] { SGD(p, SGDOptions(0.1).momentum(-1)); }).find("momentum"), std::string::npos);
  EXPECT_NE(value_error([&] { SGD(p, SGDOptions(0.1).nesterov(true)); }).find("Nesterov"), std::string::npos);
  EXPECT_NE(value_error([&] {
              SGD(p, SGDOptions(0.1).momentum(0.9).dampening(0.1).nesterov(true));
            }).find("zero dampening"),
            std::string::npos);
  EXPECT_NE(value_error([&] { Adam(p, AdamOptions(0.1).betas(1.0, 0.999)); }).find("index 0: 1"),
            std::string::npos);
  EXPECT_NE(value_error([&] { Adam(p, AdamOptions(0.1).betas(0.9, -0.1)); }).find("index 1"),
            std::string::npos);
  EXPECT_NE(value_error([&] { AdamW(p, AdamWOptions(0.1).eps(-1)); }).find("AdamW: Invalid epsilon"),
            std::string::npos);
  EXPECT_NE(value_error([&] { Adam(p, AdamOptions(0.1).weight_decay(-1)); }).find("weight_decay"),
            std::string::npos);
  EXPECT_NE(value_error([&] { Adagrad(p, AdagradOptions(0.1).lr_decay(-1)); }).find("lr_decay"),
            std::string::npos);
  EXPECT_NE(value_error([&] {
              Adagrad(p, AdagradOptions(0.1).initial_accumulator_value(-1));
            }).find("initial_accumulator_value"),
            std::string::npos);
  EXPECT_NE(value_error([&] { RMSprop(p, RMSpropOptions(0.1).alpha(-0.5)); }).find("alpha"),
            std::string::npos);
  EXPECT_NE(value_error([&] { RMSprop(p, RMSpropOptions(-1)); }).find("RMSprop: Invalid learning rate"),
            std::string::npos);
  EXPECT_NE(value_error([&] { SGD(std::vector<Tensor>{}, SGDOptions(0.1)); }).find("empty"),
            std::string::npos);
  EXPECT_NE(value_error([&] {
              SGD(std::vector<Tensor>{a, a}, SGDOptions(0.1));
            }).find("repeats"),
            std::string::npos);
  EXPECT_NE(value_error([&] {
              SGD({ParamGroup{{a}, {{"betas", 0.1}}}}, SGDOptions(0.1));
            }).find("unknown option"),
            std::string::npos);
  Tensor i = zeros({2}, DType::Int64);
  EXPECT_THROW(SGD(std::vector<Tensor>{i}, SGDOptions(0.1)), DTypeError);
  Tensor d = zeros({2}).requires_grad_();
  Tensor nonleaf = d * 2.0;
  EXPECT_THROW(SGD(std::vector<Tensor>{nonleaf}, SGDOptions(0.1)), ValueError);
}

TEST(Optimizers, GradShapeMismatchThrows) {
  Tensor a = zeros({2}).requires_grad_();
  SGD opt({a}, SGDOptions(0.1));
  a.set_grad(zeros({3}));
  EXPECT_THROW(opt.step(), ShapeError);
}

TEST(Optimizers, MaximizeFlipsTheGradient) {
  Tensor a = from_vector(std::vector<float>{1}).requires_grad_();
  Tensor b = from_vector(std::vector<float>{1}).requires_grad_();
  Adam up({a}, AdamOptions(0.1).maximize(true));
  Adam down({b}, AdamOptions(0.1));
  a.set_grad(from_vector(std::vector<float>{2}));
  b.set_grad(from_vector(std::vector<float>{-2}));
  up.step();
  down.step();
  EXPECT_EQ(a.item<float>(), b.item<float>());
  EXPECT_GT(a.item<float>(), 1.0f);
}

// After the first step, a step allocates nothing (no tensor, no state).
TEST(Optimizers, StepDoesNotAllocateAfterTheFirst) {
  for (int kind = 0; kind < 5; ++kind) {
    SCOPED_TRACE(kind);
    std::vector<Tensor> ps{randn({64, 32}).requires_grad_(), randn({32}).requires_grad_(),
                           randn({10, 3}).requires_grad_()};
    ParameterArena arena(ps);
    for (size_t i = 0; i < ps.size(); ++i) fill_(ps[i].grad(), 0.01 * static_cast<double>(i + 1));
    std::unique_ptr<Optimizer> opt;
    if (kind == 0) opt = std::make_unique<SGD>(ps, SGDOptions(0.1).momentum(0.9).nesterov(true));
    if (kind == 1) opt = std::make_unique<Adagrad>(ps, AdagradOptions(0.1).weight_decay(0.1));
    if (kind == 2) opt = std::make_unique<RMSprop>(ps, RMSpropOptions(0.1).centered(true).momentum(0.5));
    if (kind == 3) opt = std::make_unique<Adam>(ps, AdamOptions(0.1).amsgrad(true));
    if (kind == 4) opt = std::make_unique<AdamW>(ps, AdamWOptions(0.1));
    opt->step();
    AllocatorStats before = CachingAllocator::instance().stats();
    opt->step();
    opt->step();
    opt->zero_grad();
    AllocatorStats after = CachingAllocator::instance().stats();
    EXPECT_EQ(before.system_allocs, after.system_allocs);
    EXPECT_EQ(before.cache_hits, after.cache_hits);
  }
}

// Large arenas are split across threads; the result must not depend on the thread count.
TEST(Optimizers, ParallelStepIsDeterministic) {
  const int64_t n = 300000;
  std::vector<std::vector<float>> results;
  int saved = num_threads();
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    manual_seed(7);
    std::vector<Tensor> ps{randn({n}).requires_grad_(), randn({1000, 100}).requires_grad_()};
    ParameterArena arena(ps);
    Tensor g = arena.flat_grad();
    copy_into(g, randn({arena.numel()}));
    Adam opt(ps, AdamOptions(0.01).weight_decay(0.1));
    for (int s = 0; s < 3; ++s) opt.step();
    results.push_back(arena.flat().to_vector<float>());
  }
  set_num_threads(saved);
  EXPECT_EQ(results[0], results[1]);
}

}  // namespace
