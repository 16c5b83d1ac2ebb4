// Shared helpers of the image/loss module tests: the PyTorch fixtures of
// tests/fixtures/nn/image_modules.json (made by make_image_fixtures.py) and a float64 central-difference
// gradient check of a whole module.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "ember/nn/nn.h"

namespace image_fixture {

using ember::DType;
using ember::Tensor;
using nlohmann::json;
namespace nn = ember::nn;

inline const json& doc() {
  static json d = [] {
    std::ifstream in(std::string(EMBER_FIXTURE_DIR) + "/nn/image_modules.json");
    return json::parse(in);
  }();
  return d;
}

inline const json& find_case(const std::string& list, const std::string& name) {
  for (auto& c : doc().at(list))
    if (c.at("name") == name) return c;
  throw std::runtime_error("no fixture " + name);
}

inline Tensor load(const json& j, DType dt) {
  if (j.at("shape").empty()) return ember::scalar_tensor(j.at("data").at(0).get<double>(), dt);
  Tensor t = ember::from_vector(j.at("data").get<std::vector<double>>(),
                                ember::Shape(j.at("shape").get<std::vector<int64_t>>()));
  return ember::copy_as(t, dt);
}

inline void expect_close(const Tensor& got, const json& want, double tol, const std::string& what) {
  ASSERT_TRUE(got.defined()) << what;
  ASSERT_EQ(got.shape(), ember::Shape(want.at("shape").get<std::vector<int64_t>>())) << what;
  auto g = got.to_double_vector();
  auto w = want.at("data").get<std::vector<double>>();
  double scale = 0;
  for (double v : w) scale = std::max(scale, std::abs(v));
  for (size_t i = 0; i < w.size(); ++i)
    ASSERT_NEAR(g[i], w[i], tol * (std::abs(w[i]) + 0.1 * scale + 1e-3)) << what << "[" << i << "]";
}

// Loads the fixture's state_dict (num_batches_tracked as int64) into `m`, sets its mode, runs forward and
// backward of sum(out * R), and compares the output, every gradient and the buffers after the step.
inline void check_module(nn::Module& m, const std::string& name, DType dt = DType::Float32,
                         double tol = 1e-4) {
  SCOPED_TRACE(name);
  const json& c = find_case("cases", name);
  nn::StateDict sd;
  for (auto& [k, v] : c.at("state_dict").items())
    sd.insert(k, load(v, k.find("num_batches_tracked") != std::string::npos ? DType::Int64 : dt));
  m.load_state_dict(sd);
  m.train(c.at("train").get<bool>());
  m.zero_grad();
  Tensor x = load(c.at("input"), dt).requires_grad_();
  Tensor y = m.forward(x);
  expect_close(y, c.at("output"), tol, name + " output");
  y.backward(load(c.at("R"), dt));
  expect_close(x.grad(), c.at("grad_input"), tol, name + " grad input");
  auto named = m.named_parameters();
  ASSERT_EQ(named.size(), c.at("grads").size());
  for (auto& [k, p] : named) expect_close(p.grad(), c.at("grads").at(k), tol, name + " grad " + k);
  auto buffers = m.named_buffers();
  ASSERT_EQ(buffers.size(), c.at("buffers_after").size());
  for (auto& [k, b] : buffers) expect_close(b, c.at("buffers_after").at(k), tol, name + " buffer " + k);
}

// Central differences in float64 of L = sum(forward(x) * R) with respect to x and every parameter of `m`
// (a float64 module), against the analytic gradients. `reset` runs before every forward (e.g. to restore
// running statistics that a training forward updates).
inline void gradcheck_module(
    nn::Module& m, const Tensor& x0, double eps = 1e-6, double tol = 1e-5,
    const std::function<void()>& reset = [] {}) {
  Tensor x = ember::copy_as(x0.detach(), DType::Float64).requires_grad_();
  reset();
  Tensor y = m.forward(x);
  Tensor r = ember::randn(y.shape(), nullptr, DType::Float64);
  m.zero_grad();
  y.backward(r);
  std::vector<std::pair<std::string, Tensor>> wrt = {{"input", x}};
  for (auto& np : m.named_parameters()) wrt.push_back(np);
  auto loss = [&]() {
    ember::NoGradGuard g;
    reset();
    Tensor out = m.forward(x);
    auto o = out.to_double_vector();
    auto rv = r.to_double_vector();
    double s = 0;
    for (size_t i = 0; i < o.size(); ++i) s += o[i] * rv[i];
    return s;
  };
  for (auto& [name, t] : wrt) {
    Tensor analytic = ember::copy_as(t.grad().detach(), DType::Float64);
    ASSERT_TRUE(analytic.defined()) << name;
    auto a = analytic.to_double_vector();
    double* d = t.data<double>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      const double orig = d[i];
      d[i] = orig + eps;
      const double lp = loss();
      d[i] = orig - eps;
      const double lm = loss();
      d[i] = orig;
      const double num = (lp - lm) / (2 * eps);
      ASSERT_NEAR(a[i], num, tol * (1 + std::abs(num))) << name << "[" << i << "]";
    }
  }
}

}  // namespace image_fixture
