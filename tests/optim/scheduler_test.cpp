#include <gtest/gtest.h>

#include <cmath>

#include "optim_test_util.h"

using namespace ember;
using namespace ember::optim;
using namespace optim_test;

namespace {

// The optimizer of the scheduler fixtures: two groups with lr 0.1 and 0.05.
struct TwoGroups {
  Tensor w = zeros({2}).requires_grad_();
  Tensor b = zeros({1}).requires_grad_();
  SGD opt{std::vector<ParamGroup>{ParamGroup{{w}, {}}, ParamGroup{{b}, {{"lr", 0.05}}}}, SGDOptions(0.1)};
};

double lambda_fn(int64_t e) {
  return std::pow(0.95, static_cast<double>(e)) / static_cast<double>(1 + e % 4);
}

std::unique_ptr<LRScheduler> make_scheduler(const nlohmann::json& c, Optimizer& opt) {
  const std::string type = c["scheduler"];
  const auto& o = c["options"];
  if (type == "StepLR")
    return std::make_unique<StepLR>(opt, o["step_size"].get<int64_t>(), o["gamma"].get<double>());
  if (type == "MultiStepLR")
    return std::make_unique<MultiStepLR>(opt, o["milestones"].get<std::vector<int64_t>>(),
                                         o["gamma"].get<double>());
  if (type == "ExponentialLR") return std::make_unique<ExponentialLR>(opt, o["gamma"].get<double>());
  if (type == "CosineAnnealingLR")
    return std::make_unique<CosineAnnealingLR>(opt, o["T_max"].get<int64_t>(), o["eta_min"].get<double>());
  if (type == "LinearLR")
    return std::make_unique<LinearLR>(opt, o["start_factor"].get<double>(), o["end_factor"].get<double>(),
                                      o["total_iters"].get<int64_t>());
  if (type == "LambdaLR") return std::make_unique<LambdaLR>(opt, lambda_fn);
  ADD_FAILURE() << "unknown scheduler " << type;
  return nullptr;
}

PlateauOptions plateau_options(const nlohmann::json& o) {
  PlateauOptions p;
  p.mode(o["mode"])
      .factor(o["factor"])
      .patience(o["patience"])
      .threshold(o["threshold"])
      .cooldown(o["cooldown"]);
  p.min_lr(o["min_lr"]);
  if (o.contains("threshold_mode")) p.threshold_mode(o["threshold_mode"]);
  return p;
}

void expect_lrs(const std::vector<double>& got, const nlohmann::json& want, size_t step) {
  std::vector<double> w = want.get<std::vector<double>>();
  ASSERT_EQ(got.size(), w.size());
  for (size_t g = 0; g < w.size(); ++g)
    EXPECT_NEAR(got[g], w[g], 1e-12 + 1e-10 * std::fabs(w[g])) << "group " << g << " at step " << step;
}

TEST(Schedulers, RatesMatchTorch) {
  nlohmann::json fx = load_fixture("schedulers.json");
  int checked = 0;
  for (const auto& c : fx["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    TwoGroups t;
    if (c["scheduler"] == "ReduceLROnPlateau") {
      ReduceLROnPlateau s(t.opt, plateau_options(c["options"]));
      for (size_t i = 0; i < c["metrics"].size(); ++i) {
        s.step(c["metrics"][i].get<double>());
        expect_lrs(s.get_last_lr(), c["lrs"][i], i);
        expect_lrs({t.opt.lr(0), t.opt.lr(1)}, c["lrs"][i], i);
      }
    } else {
      auto s = make_scheduler(c, t.opt);
      expect_lrs(s->get_last_lr(), c["lrs"][0], 0);
      for (size_t i = 1; i < c["lrs"].size(); ++i) {
        t.opt.step();
        s->step();
        expect_lrs(s->get_last_lr(), c["lrs"][i], i);
        expect_lrs({t.opt.lr(0), t.opt.lr(1)}, c["lrs"][i], i);
      }
    }
    ++checked;
  }
  EXPECT_EQ(checked, 9);
}

TEST(Schedulers, StateRoundTripContinuesIdentically) {
  nlohmann::json fx = load_fixture("schedulers.json");
  for (const auto& c : fx["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    TwoGroups t, t2;
    if (c["scheduler"] == "ReduceLROnPlateau") {
      ReduceLROnPlateau s(t.opt, plateau_options(c["options"]));
      for (size_t i = 0; i < 13; ++i) s.step(c["metrics"][i].get<double>());
      ReduceLROnPlateau s2(t2.opt, plateau_options(c["options"]));
      s2.load_state_dict(s.state_dict());
      for (size_t i = 13; i < c["metrics"].size(); ++i) {
        s2.step(c["metrics"][i].get<double>());
        expect_lrs(s2.get_last_lr(), c["lrs"][i], i);
      }
    } else {
      auto s = make_scheduler(c, t.opt);
      for (size_t i = 1; i <= 13; ++i) s->step();
      auto s2 = make_scheduler(c, t2.opt);
      s2->load_state_dict(s->state_dict());
      EXPECT_EQ(s2->last_epoch(), 13);
      for (size_t i = 14; i < c["lrs"].size(); ++i) {
        s2->step();
        expect_lrs(s2->get_last_lr(), c["lrs"][i], i);
      }
    }
  }
}

TEST(Schedulers, BadArgumentsThrow) {
  TwoGroups t;
  EXPECT_THROW(StepLR(t.opt, 0), ValueError);
  EXPECT_THROW(MultiStepLR(t.opt, {5, 3}), ValueError);
  EXPECT_THROW(CosineAnnealingLR(t.opt, 0), ValueError);
  EXPECT_THROW(LinearLR(t.opt, 1.5), ValueError);
  EXPECT_THROW(LinearLR(t.opt, 0.5, 2.0), ValueError);
  EXPECT_THROW(LambdaLR(t.opt, std::vector<LambdaLR::Lambda>{lambda_fn}), ValueError);
  EXPECT_THROW(ReduceLROnPlateau(t.opt, PlateauOptions().factor(1.0)), ValueError);
  EXPECT_THROW(ReduceLROnPlateau(t.opt, PlateauOptions().mode("up")), ValueError);
  EXPECT_THROW(ReduceLROnPlateau(t.opt, PlateauOptions().threshold_mode("x")), ValueError);
  EXPECT_THROW(ReduceLROnPlateau(t.opt, PlateauOptions().min_lrs({0.1, 0.2, 0.3})), ValueError);
  ExponentialLR e(t.opt, 0.5);
  SchedulerState st = e.state_dict();
  st.erase("last_epoch");
  EXPECT_THROW(e.load_state_dict(st), ValueError);
}

}  // namespace
