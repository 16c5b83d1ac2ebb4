// keras::Sequential: fitting, History and evaluate against hand computations, summary, JSON configs, model
// files and resuming.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ember/core/allocator.h"
#include "ember/data/loader.h"
#include "ember/io/atomic_file.h"
#include "ember/io/safetensors.h"
#include "ember/nn/nn.h"
#include "ember/ops/loss.h"
#include "ember/ops/ops.h"
#include "ember/optim/optim.h"
#include "ember/train/train.h"

using namespace ember;
using namespace ember::keras;

namespace {

// A linearly separable 3-class problem: the label is the argmax of a fixed linear map of 4 features.
void make_blobs(int64_t n, uint64_t seed, Tensor& x, Tensor& y) {
  Generator g(seed);
  x = randn({n, 4}, &g);
  Tensor w = tensor({{1.5f, -1.0f, 0.5f}, {-0.5f, 1.0f, 1.0f}, {1.0f, 0.5f, -1.5f}, {0.0f, 1.0f, 0.5f}});
  y = argmax(matmul(x, w), 1);
}

std::string tmp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("ember_train_" + name)).string();
}

std::shared_ptr<Sequential> mlp() {
  auto m = std::make_shared<Sequential>(std::vector<LayerPtr>{Input({4}), Dense(16, "relu"), Dense(3)});
  return m;
}

}  // namespace

TEST(Model, FitsSeparableProblem) {
  manual_seed(1);
  Tensor x, y;
  make_blobs(600, 7, x, y);
  auto m = mlp();
  m->compile(CompileOptions()
                 .optimizer("adam", {{"lr", 0.01}})
                 .loss("sparse_categorical_crossentropy")
                 .from_logits(true)
                 .metrics({"accuracy"}));
  History h = m->fit(x, y, FitOptions().epochs(25).batch_size(32).validation_split(0.2).seed(3).verbose(0));
  ASSERT_EQ(h["loss"].size(), 25u);
  EXPECT_LT(h["loss"].back(), h["loss"].front());
  EXPECT_GT(h["accuracy"].back(), 0.95);
  EXPECT_GT(h["val_accuracy"].back(), 0.93);
  EXPECT_EQ(m->epoch(), 25);
  EXPECT_EQ(h.epoch.front(), 0);
  EXPECT_THROW(h["nope"], ValueError);
  Tensor probs = m->predict(x);
  EXPECT_EQ(probs.shape(), (Shape{600, 3}));
}

TEST(Model, HistoryAndEvaluateMatchHandComputation) {
  Tensor x, y;
  make_blobs(100, 11, x, y);
  manual_seed(5);
  auto m = mlp();
  m->build();
  // A twin network with the same weights, trained by hand with train_step on the same batches.
  manual_seed(5);
  auto twin = std::make_shared<nn::Sequential>(
      std::make_shared<nn::Linear>(4, 16), std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(16, 3));
  twin->load_state_dict(m->module()->state_dict());
  m->compile(CompileOptions()
                 .optimizer("sgd", {{"lr", 0.1}})
                 .loss("sparse_categorical_crossentropy")
                 .from_logits(true)
                 .metrics({"accuracy"}));
  History h = m->fit(x, y, FitOptions().epochs(1).batch_size(40).shuffle(false).verbose(0));
  optim::SGD opt(twin->parameters(), optim::SGDOptions(0.1));
  auto loss_fn = train::make_loss("sparse_categorical_crossentropy", true);
  double sum = 0;
  int64_t correct = 0;
  for (int64_t i = 0; i < 100; i += 40) {
    int64_t e = std::min<int64_t>(100, i + 40);
    Tensor xb = contiguous(slice(x, 0, i, e)), yb = contiguous(slice(y, 0, i, e));
    auto r = train::train_step(*twin, opt, loss_fn, xb, yb);
    sum += r.loss * (e - i);
    Tensor pred = argmax(r.output, 1);
    for (int64_t k = 0; k < e - i; ++k) correct += pred.at<int64_t>({k}) == yb.at<int64_t>({k});
  }
  EXPECT_NEAR(h["loss"][0], sum / 100, 1e-6);
  EXPECT_NEAR(h["accuracy"][0], correct / 100.0, 1e-12);
  // evaluate == the loss and accuracy of one full forward pass.
  Logs ev = m->evaluate(x, y, 7);
  Tensor out = m->module()->forward(x);
  EXPECT_NEAR(ev["loss"], cross_entropy(out, y).item(), 1e-5);
  Tensor pred = argmax(out, 1);
  int64_t c = 0;
  for (int64_t k = 0; k < 100; ++k) c += pred.at<int64_t>({k}) == y.at<int64_t>({k});
  EXPECT_DOUBLE_EQ(ev["accuracy"], c / 100.0);
  // predict == the twin's forward (weights stayed equal through identical steps).
  Tensor p1 = m->predict(x, 13), p2 = twin->forward(x);
  auto a = p1.to_vector<float>(), b = p2.to_vector<float>();
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-5);
}

TEST(Model, StateDictNamesFollowPyTorch) {
  Sequential m({Input({8}), Dense(6, "relu"), Dropout(0.5), Dense(4, "softmax"), Dense(2)});
  m.build();
  auto keys = m.module()->state_dict().keys();
  EXPECT_EQ(keys,
            (std::vector<std::string>{"0.weight", "0.bias", "3.weight", "3.bias", "5.weight", "5.bias"}));
  EXPECT_EQ(m.output_shape(), (Shape{2}));
  EXPECT_EQ(m.count_params(), 8 * 6 + 6 + 6 * 4 + 4 + 4 * 2 + 2);
}

TEST(Model, SummaryTable) {
  Sequential m({Dense(128, "relu").input_shape({784}), Dropout(0.2), Dense(10)}, "mlp");
  m.build();
  const std::string expected =
      "Model: \"mlp\"\n"
      "_________________________________________________________________\n"
      " Layer (type)                Output Shape              Param #\n"
      "=================================================================\n"
      " dense (Dense)               (None, 128)               100480\n"
      "                                                                 \n"
      " dropout (Dropout)           (None, 128)               0\n"
      "                                                                 \n"
      " dense_1 (Dense)             (None, 10)                1290\n"
      "=================================================================\n"
      "Total params: 101,770\n"
      "Trainable params: 101,770\n"
      "Non-trainable params: 0\n"
      "_________________________________________________________________\n";
  EXPECT_EQ(m.summary_string(), expected);
}

TEST(Model, JsonRoundTripAndErrorsNameTheField) {
  Sequential m({Input({4}), Dense(16, "relu"), Dropout(0.25), Activation("tanh"), Dense(3)});
  m.build();
  auto again = model_from_json(m.to_json_string());
  EXPECT_EQ(again->to_json(), m.to_json());
  EXPECT_TRUE(again->built());
  auto expect_error = [](const std::string& text, const std::string& needle) {
    try {
      model_from_json(text);
      ADD_FAILURE() << "no error for " << text;
    } catch (const ValueError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error(R"({"layers": [{"type": "Dense"}]})", "'units'");
  expect_error(R"({"layers": [{"type": "Dense", "units": "8"}]})", "Dense.units");
  expect_error(R"({"layers": [{"type": "Dense", "units": 8, "activaton": "relu"}]})", "'activaton'");
  expect_error(R"({"layers": [{"type": "Dense", "units": 8, "activation": "rellu"}]})", "rellu");
  expect_error(R"({"layers": [{"type": "Dens", "units": 8}]})", "'Dens'");
  expect_error(R"({"layers": [{"units": 8}]})", "'type'");
  expect_error(R"({"layer": []})", "'layer'");
  expect_error(R"({"layers": [{"type": "Dense", "units": 8}], "input_shape": ["a"]})", "input_shape");
  expect_error("{not json", "invalid JSON");
  try {
    CompileOptions::from_json(nlohmann::json::parse(R"({"optimizer": "adam", "los": "mse"})"));
    ADD_FAILURE();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("'los'"), std::string::npos);
  }
  Sequential c({Input({4}), Dense(3)});
  EXPECT_THROW(c.compile("adamm", "mse"), ValueError);
  EXPECT_THROW(c.compile("adam", "msee"), ValueError);
  EXPECT_THROW(c.compile(CompileOptions().optimizer("adam", {{"lrr", 0.1}}).loss("mse")), ValueError);
  Sequential nobuild({Dense(3)});
  EXPECT_THROW(nobuild.summary_string(), ValueError);
}

TEST(Model, SaveLoadPredictsIdenticallyAndCorruptFilesFail) {
  Tensor x, y;
  make_blobs(64, 3, x, y);
  manual_seed(2);
  auto m = mlp();
  m->compile("adam", "sparse_categorical_crossentropy", {"accuracy"}, true);
  m->fit(x, y, FitOptions().epochs(2).batch_size(16).verbose(0));
  std::string path = tmp_path("model.safetensors");
  m->save(path);
  auto loaded = load_model(path);
  EXPECT_EQ(loaded->epoch(), 2);
  EXPECT_TRUE(loaded->compiled());
  EXPECT_EQ(loaded->optimizer().name(), "Adam");
  EXPECT_EQ(loaded->predict(x).to_vector<float>(), m->predict(x).to_vector<float>());
  // Weights-only files carry the PyTorch names only.
  std::string wpath = tmp_path("weights.safetensors");
  m->save_weights(wpath);
  auto f = io::load_safetensors(wpath);
  ASSERT_EQ(f.tensors.size(), 4u);
  EXPECT_EQ(f.tensors[0].first, "0.weight");
  auto fresh = mlp();
  fresh->load_weights(wpath);
  EXPECT_EQ(fresh->predict(x).to_vector<float>(), m->predict(x).to_vector<float>());
  EXPECT_THROW(load_model(wpath), IOError);  // not a model file
  // Truncate the model file: IOError naming it.
  std::string bytes = io::read_file(path);
  std::string bad = tmp_path("truncated.safetensors");
  {
    std::ofstream out(bad, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
  }
  try {
    load_model(bad);
    FAIL();
  } catch (const IOError& e) {
    EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
  }
  auto wrong = std::make_shared<Sequential>(std::vector<LayerPtr>{Input({4}), Dense(8, "relu"), Dense(3)});
  EXPECT_THROW(wrong->load_weights(wpath), ShapeError);
  std::remove(path.c_str());
  std::remove(wpath.c_str());
  std::remove(bad.c_str());
}

TEST(Model, ResumeContinuesLikeAnUninterruptedRun) {
  Tensor x, y;
  make_blobs(96, 5, x, y);
  auto opts = FitOptions().batch_size(16).seed(9).verbose(0);
  manual_seed(4);
  auto full = mlp();
  full->compile("adam", "sparse_categorical_crossentropy", {"accuracy"}, true);
  History hf = full->fit(x, y, FitOptions(opts).epochs(4));

  manual_seed(4);
  auto first = mlp();
  first->compile("adam", "sparse_categorical_crossentropy", {"accuracy"}, true);
  first->fit(x, y, FitOptions(opts).epochs(2));
  std::string path = tmp_path("resume.safetensors");
  first->save(path);
  auto resumed = load_model(path);
  History hr = resumed->fit(x, y, FitOptions(opts).epochs(2));
  EXPECT_EQ(hr.epoch, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(resumed->epoch(), 4);
  EXPECT_DOUBLE_EQ(hr["loss"][0], hf["loss"][2]);
  EXPECT_DOUBLE_EQ(hr["loss"][1], hf["loss"][3]);
  EXPECT_EQ(resumed->predict(x).to_vector<float>(), full->predict(x).to_vector<float>());
  std::remove(path.c_str());
}

TEST(Model, OptimizerObjectAndHandWrittenLoop) {
  Tensor x, y;
  make_blobs(64, 8, x, y);
  manual_seed(6);
  Sequential m({Input({4}), Dense(8, "tanh"), Dense(3, "softmax")});
  m.build();
  auto opt = std::make_shared<optim::RMSprop>(m.module()->parameters(), optim::RMSpropOptions(0.01));
  m.compile(CompileOptions().optimizer(opt).loss("sparse_categorical_crossentropy").metrics({"accuracy"}));
  EXPECT_EQ(m.compile_options().to_json()["optimizer"]["name"], "rmsprop");
  // The same model trained by the public building blocks over a DataLoader.
  data::DataLoader loader(data::tensor_dataset(x, y),
                          data::DataLoaderOptions().batch_size(16).num_workers(0));
  train::Accuracy acc;
  auto r0 = train::evaluate(*m.module(), m.loss_fn(), loader, {&acc});
  for (int e = 0; e < 10; ++e) train::train_epoch(*m.module(), *opt, m.loss_fn(), loader, {&acc});
  auto r1 = train::evaluate(*m.module(), m.loss_fn(), loader, {&acc});
  EXPECT_LT(r1.loss, r0.loss);
  EXPECT_EQ(r1.samples, 64);
  EXPECT_EQ(r1.metrics.at(0).first, "accuracy");
}

TEST(Model, LossesByName) {
  Tensor p = tensor({0.2f, 0.7f}, {2, 1}), t = tensor({0.0f, 1.0f});
  EXPECT_NEAR(train::make_loss("mse")(p, t).item(), (0.04 + 0.09) / 2, 1e-6);
  EXPECT_NEAR(train::make_loss("mae")(p, t).item(), (0.2 + 0.3) / 2, 1e-6);
  EXPECT_NEAR(train::make_loss("binary_crossentropy")(p, t).item(), -(std::log(0.8) + std::log(0.7)) / 2,
              1e-5);
  Tensor logits = tensor({1.0f, -2.0f}, {2, 1});
  double l0 = std::log1p(std::exp(1.0)), l1 = std::log1p(std::exp(2.0));
  EXPECT_NEAR(train::make_loss("binary_crossentropy", true)(logits, t).item(), (l0 + l1) / 2, 1e-5);
  Tensor onehot = tensor({{0, 1}, {1, 0}}), pr = tensor({{0.25f, 0.75f}, {0.5f, 0.5f}});
  EXPECT_NEAR(train::make_loss("categorical_crossentropy")(pr, onehot).item(),
              -(std::log(0.75) + std::log(0.5)) / 2, 1e-5);
}

TEST(Model, SteadyStateStepsTakeNoFreshMemory) {
  Tensor x, y;
  make_blobs(256, 12, x, y);
  manual_seed(7);
  Sequential m({Input({4}), Dense(32, "relu"), Dropout(0.1), Dense(3)});
  m.compile("adam", "sparse_categorical_crossentropy", {"accuracy"}, true);
  auto opts = FitOptions().batch_size(32).verbose(0);
  m.fit(x, y, FitOptions(opts).epochs(2));  // warm-up: the caching allocator learns the sizes
  size_t before = CachingAllocator::instance().stats().system_allocs;
  m.fit(x, y, FitOptions(opts).epochs(3));
  EXPECT_EQ(CachingAllocator::instance().stats().system_allocs, before);
}
