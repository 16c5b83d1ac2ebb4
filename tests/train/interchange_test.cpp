// PyTorch interchange, both directions (see tests/fixtures/train/make_interchange_fixtures.py):
//  * torch -> Ember: state_dicts written by the script load into the equivalent keras::Sequential, whose
//    outputs match PyTorch's.
//  * Ember -> torch: Ember's save_weights() of a seeded model must reproduce the committed
//    ember_mlp.safetensors byte for byte (and its outputs ember_mlp_outputs.json); the script's --check mode
//    loads that committed file into torch and compares. EMBER_REGEN_TRAIN_FIXTURES=1 rewrites the two files.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ember/io/atomic_file.h"
#include "ember/train/train.h"

using namespace ember;
using namespace ember::keras;

namespace {

const std::string kDir = std::string(EMBER_FIXTURE_DIR) + "/train/";

nlohmann::json read_json(const std::string& path) {
  return nlohmann::json::parse(io::read_file(path));
}

Tensor json_tensor(const nlohmann::json& j, const char* values, const char* shape) {
  return from_vector(j[values].get<std::vector<float>>(), Shape(j[shape].get<std::vector<int64_t>>()));
}

void expect_matches_torch(Sequential& m, const std::string& name) {
  m.load_weights(kDir + name + ".safetensors");
  auto j = read_json(kDir + name + ".json");
  Tensor y = m.predict(json_tensor(j, "input", "input_shape"));
  Tensor want = json_tensor(j, "output", "output_shape");
  ASSERT_EQ(y.shape(), want.shape());
  auto a = y.to_vector<float>(), b = want.to_vector<float>();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5) << name << " output " << i;
}

}  // namespace

TEST(Interchange, TorchMlpIntoKeras) {
  Sequential m({Input({4}), Dense(8, "relu"), Dense(3)});
  expect_matches_torch(m, "torch_mlp");
}

#if __has_include("ember/nn/conv.h") && __has_include("ember/nn/pooling.h")
TEST(Interchange, TorchCnnIntoKeras) {
  Sequential m({Input({1, 8, 8}), Conv2D(4, {3, 3}, "relu"), MaxPooling2D({2, 2}), Flatten(),
                Dense(16, "relu"), Dense(5)});
  expect_matches_torch(m, "torch_cnn");
}
#endif

TEST(Interchange, EmberWeightsForTorch) {
  manual_seed(123);
  Sequential m({Input({4}), Dense(8, "relu"), Dense(3)});
  m.build();
  std::string tmp = ::testing::TempDir() + "ember_mlp.safetensors";
  m.save_weights(tmp);
  auto j = read_json(kDir + "torch_mlp.json");
  Tensor y = m.predict(json_tensor(j, "input", "input_shape"));
  nlohmann::json out;
  out["input_shape"] = j["input_shape"];
  out["input"] = j["input"];
  out["output_shape"] = std::vector<int64_t>(y.shape().begin(), y.shape().end());
  out["output"] = y.to_vector<float>();
  if (std::getenv("EMBER_REGEN_TRAIN_FIXTURES")) {
    std::string bytes = io::read_file(tmp);
    io::atomic_write(kDir + "ember_mlp.safetensors",
                     [&](std::FILE* f) { io::write_all(f, bytes.data(), bytes.size(), "ember_mlp"); });
    std::ofstream(kDir + "ember_mlp_outputs.json") << out.dump() << "\n";
  }
  EXPECT_EQ(io::read_file(tmp), io::read_file(kDir + "ember_mlp.safetensors"))
      << "Ember no longer writes the committed file; regenerate with EMBER_REGEN_TRAIN_FIXTURES=1 and re-run "
         "make_interchange_fixtures.py --check";
  auto want = read_json(kDir + "ember_mlp_outputs.json");
  auto a = y.to_vector<float>();
  auto b = want["output"].get<std::vector<float>>();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-6);
}
