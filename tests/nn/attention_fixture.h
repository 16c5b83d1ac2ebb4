// Loading tests/fixtures/nn/attention.json (made by make_attention_fixtures.py) for the attention and
// transformer module tests: state dicts by PyTorch name, inputs, masks, outputs and gradients.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "ember/nn/nn.h"

namespace attn_fixture {

using ember::DType;
using ember::Tensor;
using nlohmann::json;

inline const json& get(const std::string& name) {
  static json doc = [] {
    std::ifstream in(std::string(EMBER_FIXTURE_DIR) + "/nn/attention.json");
    return json::parse(in);
  }();
  for (auto& c : doc.at("cases"))
    if (c.at("name") == name) return c;
  throw std::runtime_error("no fixture " + name);
}

// Values are numbers, or the strings "-inf" / "inf" (JSON has no infinities).
inline std::vector<double> values(const json& j) {
  std::vector<double> v;
  for (auto& e : j.at("data")) v.push_back(e.is_string() ? std::stod(e.get<std::string>()) : e.get<double>());
  return v;
}

inline Tensor load(const json& j, DType dt) {
  Tensor t = ember::from_vector(values(j), ember::Shape(j.at("shape").get<std::vector<int64_t>>()));
  return ember::copy_as(t, j.value("dtype", "float") == "bool" ? DType::Bool : dt);
}

inline void expect_close(const Tensor& got, const json& want, double tol, const std::string& what) {
  ASSERT_TRUE(got.defined()) << what;
  ASSERT_EQ(got.shape(), ember::Shape(want.at("shape").get<std::vector<int64_t>>())) << what;
  auto g = got.to_double_vector();
  auto w = values(want);
  for (size_t i = 0; i < w.size(); ++i)
    ASSERT_NEAR(g[i], w[i], tol * (1 + std::abs(w[i]))) << what << "[" << i << "]";
}

using Inputs = std::map<std::string, Tensor>;
// Runs the module on named inputs and masks; returns the output (and optionally weights through *weights).
using Call = std::function<Tensor(ember::nn::Module&, const Inputs& x, const Inputs& masks)>;

// Loads the fixture's state dict into `m` (strict: same names as PyTorch), runs it in train mode (dropout 0)
// and eval mode, and compares the output and every parameter and input gradient.
inline void check(ember::nn::Module& m, const std::string& name, const Call& call,
                  DType dt = DType::Float32) {
  const json& c = get(name);
  // float64: the fixture's values have 10 significant digits.
  const double tol = dt == DType::Float32 ? 1e-4 : 1e-7;
  ember::nn::StateDict sd;
  for (auto& [k, v] : c.at("params").items()) sd.insert(k, load(v, dt));
  m.load_state_dict(sd);
  EXPECT_EQ(m.state_dict().keys(), c.at("param_names").get<std::vector<std::string>>())
      << name << ": state_dict keys or their order differ from PyTorch";
  m.zero_grad();
  m.train();
  Inputs x, masks;
  for (auto& [k, v] : c.at("inputs").items()) x[k] = load(v, dt).requires_grad_();
  for (auto& [k, v] : c.at("masks").items()) masks[k] = load(v, dt);
  Tensor y = call(m, x, masks);
  expect_close(y, c.at("output"), tol, name + " output");
  y.backward(load(c.at("grad_output"), dt));
  for (auto& [k, p] : m.named_parameters())
    expect_close(p.grad(), c.at("grads").at(k), tol, name + " grad " + k);
  for (auto& [k, t] : x) expect_close(t.grad(), c.at("input_grads").at(k), tol, name + " grad of input " + k);
  m.eval();
  Inputs xd;
  for (auto& [k, t] : x) xd[k] = t.detach();
  expect_close(call(m, xd, masks), c.at("eval_output"), tol, name + " eval output");
}

}  // namespace attn_fixture
