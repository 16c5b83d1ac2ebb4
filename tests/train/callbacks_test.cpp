// Callbacks: EarlyStopping stops and restores, ModelCheckpoint saves only on improvement, CSV/JSON-lines
// contents equal the History, LearningRateScheduler, ProgressBar output.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ember/ops/ops.h"
#include "ember/optim/optim.h"
#include "ember/train/train.h"

using namespace ember;
using namespace ember::keras;

namespace {

std::string tmp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("ember_cb_" + name)).string();
}

// Feeds scripted log values to the callbacks (no training), to test their decisions exactly.
class Script : public Callback {
 public:
  Script(std::vector<double> values) : values_(std::move(values)) {}
  void on_epoch_end(int64_t epoch, Logs& logs) override { logs["val_loss"] = values_.at(epoch); }

 private:
  std::vector<double> values_;
};

// Marks each epoch's weights so the restored weights tell which epoch they came from.
class StampWeights : public Callback {
 public:
  void on_epoch_end(int64_t epoch, Logs&) override {
    fill_(model_->module()->state_dict().at("0.bias"), static_cast<double>(epoch));
  }
};

std::shared_ptr<Sequential> tiny(Tensor& x, Tensor& y) {
  manual_seed(3);
  x = randn({32, 2});
  y = randint(0, 2, {32});
  auto m = std::make_shared<Sequential>(std::vector<LayerPtr>{Input({2}), Dense(2)});
  m->compile(CompileOptions()
                 .optimizer("sgd", {{"lr", 0.0}})
                 .loss("sparse_categorical_crossentropy")
                 .from_logits(true)
                 .metrics({"accuracy"}));
  return m;
}

std::vector<std::string> lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> r;
  for (std::string l; std::getline(in, l);) r.push_back(l);
  return r;
}

}  // namespace

TEST(Callbacks, EarlyStoppingStopsAndRestoresBest) {
  Tensor x, y;
  auto m = tiny(x, y);
  auto stamp = std::make_shared<StampWeights>();
  auto script = std::make_shared<Script>(std::vector<double>{1.0, 0.5, 0.6, 0.55, 0.4, 0.3, 0.2});
  auto es = std::make_shared<EarlyStopping>(
      EarlyStoppingOptions().monitor("val_loss").patience(2).restore_best_weights(true));
  History h = m->fit(x, y, FitOptions().epochs(7).verbose(0).callbacks({stamp, script, es}));
  // best at epoch 1 (0.5); epochs 2 and 3 do not improve -> stop after epoch 3.
  EXPECT_EQ(h.epoch.size(), 4u);
  EXPECT_EQ(es->stopped_epoch(), 3);
  EXPECT_EQ(es->best_epoch(), 1);
  EXPECT_DOUBLE_EQ(es->best(), 0.5);
  EXPECT_EQ(m->module()->state_dict().at("0.bias").to_vector<float>(), (std::vector<float>{1.0f, 1.0f}));
  EXPECT_EQ(m->epoch(), 4);
}

TEST(Callbacks, EarlyStoppingMinDeltaAndMaxMode) {
  Tensor x, y;
  auto m = tiny(x, y);
  auto script = std::make_shared<Script>(std::vector<double>{1.0, 0.95, 0.92, 0.5});
  auto es = std::make_shared<EarlyStopping>(EarlyStoppingOptions().patience(1).min_delta(0.1));
  m->fit(x, y, FitOptions().epochs(4).verbose(0).callbacks({script, es}));
  EXPECT_EQ(es->stopped_epoch(), 1);  // 0.95 is not 0.1 better than 1.0
  EXPECT_THROW(m->fit(x, y,
                      FitOptions().epochs(1).verbose(0).callbacks(
                          {std::make_shared<EarlyStopping>(EarlyStoppingOptions().monitor("val_acc"))})),
               ValueError);  // no validation data: the monitored key is missing
}

TEST(Callbacks, CheckpointOnlyOnImprovement) {
  Tensor x, y;
  auto m = tiny(x, y);
  std::string path = tmp_path("ckpt_{epoch}.safetensors");
  auto script = std::make_shared<Script>(std::vector<double>{1.0, 1.2, 0.8, 0.8, 0.3});
  auto ck = std::make_shared<ModelCheckpoint>(path, "val_loss", /*save_best_only=*/true);
  m->fit(x, y, FitOptions().epochs(5).verbose(0).callbacks({script, ck}));
  EXPECT_EQ(ck->saves(), 3);  // epochs 0, 2, 4
  EXPECT_EQ(ck->last_path(), tmp_path("ckpt_5.safetensors"));
  EXPECT_EQ(load_model(ck->last_path())->epoch(), 5);
  for (int e : {1, 3, 5}) {
    std::string p = tmp_path("ckpt_" + std::to_string(e) + ".safetensors");
    EXPECT_TRUE(std::filesystem::exists(p)) << p;
    std::remove(p.c_str());
  }
  for (int e : {2, 4})
    EXPECT_FALSE(std::filesystem::exists(tmp_path("ckpt_" + std::to_string(e) + ".safetensors")));
}

TEST(Callbacks, CsvAndJsonLinesMatchHistory) {
  Tensor x, y;
  auto m = tiny(x, y);
  std::string csv = tmp_path("log.csv"), jl = tmp_path("log.jsonl");
  History h = m->fit(x, y,
                     FitOptions().epochs(3).verbose(0).validation_split(0.25).callbacks(
                         {std::make_shared<CSVLogger>(csv), std::make_shared<JsonLinesLogger>(jl)}));
  auto rows = lines(csv);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0], "epoch,accuracy,loss,val_accuracy,val_loss");
  for (int e = 0; e < 3; ++e) {
    std::stringstream ss(rows[e + 1]);
    std::string cell;
    std::vector<std::string> cells;
    while (std::getline(ss, cell, ',')) cells.push_back(cell);
    ASSERT_EQ(cells.size(), 5u);
    EXPECT_EQ(cells[0], std::to_string(e));
    EXPECT_EQ(std::stod(cells[1]), h["accuracy"][e]);
    EXPECT_EQ(std::stod(cells[2]), h["loss"][e]);
    EXPECT_EQ(std::stod(cells[4]), h["val_loss"][e]);
  }
  auto js = lines(jl);
  ASSERT_EQ(js.size(), 3u);
  auto j = nlohmann::json::parse(js[2]);
  EXPECT_EQ(j["epoch"], 2);
  EXPECT_EQ(j["val_accuracy"].get<double>(), h["val_accuracy"][2]);
  std::remove(csv.c_str());
  std::remove(jl.c_str());
}

TEST(Callbacks, LearningRateSchedulers) {
  Tensor x, y;
  auto m = tiny(x, y);
  m->compile(CompileOptions().optimizer("sgd", {{"lr", 0.1}}).loss("sparse_categorical_crossentropy"));
  History h = m->fit(
      x, y,
      FitOptions().epochs(3).verbose(0).callbacks({std::make_shared<LearningRateScheduler>(
          LearningRateScheduler::Schedule([](int64_t e, double lr) { return e == 0 ? lr : lr / 2; }))}));
  EXPECT_EQ(h["lr"], (std::vector<double>{0.1, 0.05, 0.025}));
  auto sched = std::make_shared<LearningRateScheduler>(LearningRateScheduler::Factory(
      [](optim::Optimizer& o) { return std::make_unique<optim::StepLR>(o, 1, 0.1); }));
  h = m->fit(x, y, FitOptions().epochs(2).verbose(0).callbacks({sched}));
  ASSERT_EQ(h["lr"].size(), 2u);
  EXPECT_DOUBLE_EQ(h["lr"][0], 0.025);
  EXPECT_NEAR(h["lr"][1], 0.0025, 1e-12);
}

TEST(Callbacks, ProgressBarLines) {
  Tensor x, y;
  auto m = tiny(x, y);
  std::ostringstream plain, live;
  m->fit(x, y,
         FitOptions().epochs(2).batch_size(8).verbose(0).callbacks(
             {std::make_shared<ProgressBar>(plain, 0), std::make_shared<ProgressBar>(live, 1)}));
  auto text = plain.str();
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2);
  EXPECT_EQ(text.rfind("Epoch 1/2 - 4/4 - ", 0), 0u) << text;
  EXPECT_NE(text.find("samples/s - accuracy: "), std::string::npos) << text;
  EXPECT_NE(live.str().find("4/4 [==============================]"), std::string::npos) << live.str();
  EXPECT_NE(live.str().find("ETA"), std::string::npos);
}
