// Shared helpers of the optim tests: fixture loading, the linear-regression problem, an optimizer factory.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ember/ops/ops.h"
#include "ember/optim/optim.h"

namespace optim_test {

inline nlohmann::json load_fixture(const std::string& name) {
  std::ifstream in(std::string(EMBER_FIXTURE_DIR) + "/optim/" + name);
  EXPECT_TRUE(in.good()) << "missing fixture " << name;
  return nlohmann::json::parse(in);
}

inline std::vector<float> floats(const nlohmann::json& j) {
  return j.get<std::vector<float>>();
}

// Fixture options (PyTorch names) as an OptionMap: betas -> beta1/beta2, booleans -> 0/1.
inline ember::optim::OptionMap option_map(const nlohmann::json& j) {
  ember::optim::OptionMap m;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "betas") {
      m["beta1"] = it.value()[0].get<double>();
      m["beta2"] = it.value()[1].get<double>();
    } else if (it.value().is_boolean()) {
      m[it.key()] = it.value().get<bool>() ? 1.0 : 0.0;
    } else {
      m[it.key()] = it.value().get<double>();
    }
  }
  return m;
}

inline std::unique_ptr<ember::optim::Optimizer> make_optimizer(
    const std::string& type, const std::vector<ember::optim::ParamGroup>& g) {
  using namespace ember::optim;
  if (type == "SGD") return std::make_unique<SGD>(g, SGDOptions());
  if (type == "Adagrad") return std::make_unique<Adagrad>(g, AdagradOptions());
  if (type == "RMSprop") return std::make_unique<RMSprop>(g, RMSpropOptions());
  if (type == "Adam") return std::make_unique<Adam>(g, AdamOptions());
  if (type == "AdamW") return std::make_unique<AdamW>(g, AdamWOptions());
  ADD_FAILURE() << "unknown optimizer " << type;
  return nullptr;
}

// loss = mean((x @ W + b - y)^2)
struct Regression {
  ember::Tensor x, y, W, b;
  explicit Regression(const nlohmann::json& fx) {
    x = ember::from_vector(floats(fx["x"]), {8, 4});
    y = ember::from_vector(floats(fx["y"]), {8, 3});
    W = ember::from_vector(floats(fx["W0"]), {4, 3}).requires_grad_();
    b = ember::from_vector(floats(fx["b0"]), {3}).requires_grad_();
  }
  void backward() const {
    ember::Tensor d = ember::matmul(x, W) + b - y;
    ember::mean(d * d).backward();
  }
};

}  // namespace optim_test
