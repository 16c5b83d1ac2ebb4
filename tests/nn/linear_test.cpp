// Modules against PyTorch fixtures (tests/fixtures/nn/modules.json, made by make_nn_fixtures.py): outputs and
// gradients with fixed weights, loaded by PyTorch's state_dict names.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ember/nn/nn.h"

using namespace ember;
namespace nn = ember::nn;
using nlohmann::json;

namespace {

const json& fixture(const std::string& name) {
  static json doc = [] {
    std::ifstream in(std::string(EMBER_FIXTURE_DIR) + "/nn/modules.json");
    return json::parse(in);
  }();
  for (auto& c : doc.at("cases"))
    if (c.at("name") == name) return c;
  throw std::runtime_error("no fixture " + name);
}

Tensor load(const json& j, DType dt) {
  Tensor t =
      from_vector(j.at("data").get<std::vector<double>>(), Shape(j.at("shape").get<std::vector<int64_t>>()));
  return copy_as(t, dt);
}

void expect_close(const Tensor& got, const json& want, double tol, const std::string& what) {
  ASSERT_TRUE(got.defined()) << what;
  ASSERT_EQ(got.shape(), Shape(want.at("shape").get<std::vector<int64_t>>())) << what;
  auto g = got.to_double_vector();
  auto w = want.at("data").get<std::vector<double>>();
  for (size_t i = 0; i < w.size(); ++i)
    EXPECT_NEAR(g[i], w[i], tol * (1 + std::abs(w[i]))) << what << "[" << i << "]";
}

// Loads the fixture's parameters (by PyTorch name) into a float32 module and compares output and gradients.
void check_against_fixture(nn::Module& m, const std::string& name) {
  const json& c = fixture(name);
  const DType dt = DType::Float32;
  const double tol = 1e-5;
  nn::StateDict sd;
  for (auto& [k, v] : c.at("params").items()) sd.insert(k, load(v, dt));
  m.load_state_dict(sd);
  m.zero_grad();
  Tensor x = load(c.at("input"), dt).requires_grad_();
  Tensor y = m.forward(x);
  expect_close(y, c.at("output"), tol, name + " output");
  y.backward(load(c.at("grad_output"), dt));
  expect_close(x.grad(), c.at("grad_input"), tol, name + " grad input");
  for (auto& [k, p] : m.named_parameters())
    expect_close(p.grad(), c.at("grads").at(k), tol, name + " grad " + k);
}

}  // namespace

TEST(LinearModule, MatchesPyTorchFixture) {
  nn::Linear f32(4, 3);
  check_against_fixture(f32, "linear");
  nn::Linear f64(nn::LinearOptions(4, 3).dtype(DType::Float64));
  const json& c = fixture("linear");
  nn::StateDict sd;
  for (auto& [k, v] : c.at("params").items()) sd.insert(k, load(v, DType::Float64));
  f64.load_state_dict(sd);
  Tensor x = load(c.at("input"), DType::Float64).requires_grad_();
  Tensor y = f64.forward(x);
  expect_close(y, c.at("output"), 1e-12, "linear f64 output");
  y.backward(load(c.at("grad_output"), DType::Float64));
  expect_close(f64.weight.grad(), c.at("grads").at("weight"), 1e-12, "linear f64 dW");
  expect_close(f64.bias.grad(), c.at("grads").at("bias"), 1e-12, "linear f64 db");
  expect_close(x.grad(), c.at("grad_input"), 1e-12, "linear f64 dx");
  EXPECT_EQ(f32.to_string(),
            c.at("repr").get<std::string>() == "Linear(in_features=4, out_features=3, bias=True)"
                ? "Linear(in_features=4, out_features=3, bias=true)"
                : "unexpected PyTorch repr");
}

TEST(LinearModule, NoBias3dMatchesPyTorchFixture) {
  nn::Linear m(nn::LinearOptions(3, 2).bias(false));
  EXPECT_FALSE(m.bias.defined());
  EXPECT_EQ(m.parameters().size(), 1u);
  check_against_fixture(m, "linear_no_bias_3d");
}

TEST(LinearModule, SequentialMlpMatchesPyTorchFixture) {
  nn::Sequential mlp(std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(6, 5),
                     std::make_shared<nn::Linear>(5, 2));
  check_against_fixture(mlp, "mlp");
}

TEST(LinearModule, DefaultInitLikePyTorch) {
  // kaiming_uniform_(a = sqrt(5)) on (out, in) is U(-1/sqrt(in), 1/sqrt(in)); the bias the same bound.
  manual_seed(123);
  const int64_t in = 200, out = 300;
  nn::Linear m(in, out);
  const double bound = 1.0 / std::sqrt(static_cast<double>(in));
  auto check = [&](const Tensor& t, const char* what) {
    auto v = t.to_double_vector();
    double mean = 0, sq = 0, mx = 0;
    for (double e : v) {
      mean += e;
      sq += e * e;
      mx = std::max(mx, std::abs(e));
    }
    const double n = static_cast<double>(v.size());
    mean /= n;
    double sd = std::sqrt(sq / n - mean * mean);
    double expected_sd = bound / std::sqrt(3.0);
    EXPECT_LE(mx, bound) << what;
    EXPECT_GT(mx, bound * (1 - 20.0 / n)) << what;  // the extremes approach the bound
    EXPECT_NEAR(mean, 0.0, 5 * expected_sd / std::sqrt(n)) << what;
    EXPECT_NEAR(sd, expected_sd, 0.05 * expected_sd + 5 * expected_sd / std::sqrt(n)) << what;
  };
  check(m.weight, "weight");
  check(m.bias, "bias");
  // Same seed, same weights; an explicit generator is independent of the global one.
  manual_seed(123);
  nn::Linear again(in, out);
  EXPECT_EQ(again.weight.to_vector<float>(), m.weight.to_vector<float>());
  Generator g1(7), g2(7);
  EXPECT_EQ(nn::Linear(3, 2, true, &g1).weight.to_vector<float>(),
            nn::Linear(3, 2, true, &g2).weight.to_vector<float>());
}
