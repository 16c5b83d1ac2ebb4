// Module tree: names, traversal, registration errors, train/eval, zero_grad, state dicts, printing.
#include <gtest/gtest.h>

#include <sstream>

#include "ember/nn/nn.h"

using namespace ember;
namespace nn = ember::nn;

namespace {

// A stand-in for an activation (relu and clamp arrive with the elementwise family).
Tensor halve(const Tensor& x) {
  return x * 0.5;
}

struct Block : nn::Module {
  std::shared_ptr<nn::Linear> fc;
  Tensor scale;
  Block(int64_t in, int64_t out) : Module("Block") {
    fc = register_module("fc", std::make_shared<nn::Linear>(in, out));
    scale = register_buffer("scale", ones({out}));
  }
  Tensor forward(const Tensor& x) override { return fc->forward(x) * scale; }
};

struct Net : nn::Module {
  std::shared_ptr<nn::Sequential> features;
  std::shared_ptr<Block> head;
  Net() : Module("Net") {
    features = register_module("features",
                               std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(4, 8), halve,
                                                                std::make_shared<nn::Dropout>(0.1)));
    head = register_module("head", std::make_shared<Block>(8, 2));
  }
  Tensor forward(const Tensor& x) override { return head->forward(features->forward(x)); }
};

std::vector<std::string> names(const nn::NamedTensors& v) {
  std::vector<std::string> out;
  for (auto& [n, t] : v) out.push_back(n);
  return out;
}

}  // namespace

TEST(Module, DottedNamesAndPaths) {
  auto net = std::make_shared<Net>();
  EXPECT_EQ(names(net->named_parameters()), (std::vector<std::string>{"features.0.weight", "features.0.bias",
                                                                      "head.fc.weight", "head.fc.bias"}));
  EXPECT_TRUE(net->named_parameters(false).empty());
  EXPECT_EQ(names(net->head->named_parameters(false)), std::vector<std::string>{});
  EXPECT_EQ(names(net->head->fc->named_parameters(false)), (std::vector<std::string>{"weight", "bias"}));
  EXPECT_EQ(names(net->named_buffers()), std::vector<std::string>{"head.scale"});
  EXPECT_EQ(net->path(), "");
  EXPECT_EQ(net->features->path(), "features");
  EXPECT_EQ((*net->features)[0]->path(), "features.0");
  EXPECT_EQ((*net->features)[0]->name(), "0");
  EXPECT_EQ(net->head->fc->path(), "head.fc");
  std::vector<std::string> mods;
  for (auto& [n, m] : net->named_modules()) mods.push_back(n + ":" + m->type_name());
  EXPECT_EQ(mods, (std::vector<std::string>{":Net", "features:Sequential", "features.0:Linear",
                                            "features.1:Functional", "features.2:Dropout", "head:Block",
                                            "head.fc:Linear"}));
  EXPECT_EQ(net->children().size(), 2u);
  EXPECT_EQ(net->modules().size(), 7u);
  EXPECT_EQ(net->num_parameters(), 4 * 8 + 8 + 8 * 2 + 2);
  for (auto& p : net->parameters()) EXPECT_TRUE(p.requires_grad());
}

TEST(Module, RegistrationErrors) {
  nn::Module m("M");
  m.register_parameter("w", zeros({2}));
  EXPECT_THROW(m.register_parameter("w", zeros({2})), ValueError);
  EXPECT_THROW(m.register_buffer("w", zeros({2})), ValueError);
  EXPECT_THROW(m.register_module("w", std::make_shared<nn::Identity>()), ValueError);
  EXPECT_THROW(m.register_parameter("a.b", zeros({2})), ValueError);
  EXPECT_THROW(m.register_parameter("", zeros({2})), ValueError);
  EXPECT_THROW(m.register_module("x", std::shared_ptr<nn::Module>()), ValueError);
  EXPECT_THROW(m.forward(zeros({2})), ValueError);
}

TEST(Module, SharedParameterListedOnce) {
  auto a = std::make_shared<nn::Linear>(3, 3);
  nn::Sequential seq(a, a);  // the same module twice: its parameters appear once
  EXPECT_EQ(seq.parameters().size(), 2u);
  EXPECT_EQ(names(seq.named_parameters()), (std::vector<std::string>{"0.weight", "0.bias"}));
}

TEST(Module, TrainEvalPropagates) {
  auto net = std::make_shared<Net>();
  for (auto& m : net->modules()) EXPECT_TRUE(m->is_training());
  net->eval();
  for (auto& m : net->modules()) EXPECT_FALSE(m->is_training()) << m->path();
  // Dropout is the identity in eval mode: two calls agree.
  Tensor x = randn({3, 4});
  EXPECT_EQ(net->forward(x).to_vector<float>(), net->forward(x).to_vector<float>());
  net->features->train();
  EXPECT_TRUE((*net->features)[2]->is_training());
  EXPECT_FALSE(net->head->is_training());
}

TEST(Module, ZeroGrad) {
  auto net = std::make_shared<Net>();
  net->eval();
  sum(net->forward(randn({3, 4}))).backward();
  for (auto& p : net->parameters()) ASSERT_TRUE(p.grad().defined());
  net->zero_grad(false);
  for (auto& p : net->parameters()) {
    ASSERT_TRUE(p.grad().defined());
    for (double v : p.grad().to_double_vector()) EXPECT_EQ(v, 0.0);
  }
  net->zero_grad();
  for (auto& p : net->parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(Module, StateDictRoundTripInPlace) {
  manual_seed(1);
  auto a = std::make_shared<Net>();
  manual_seed(2);
  auto b = std::make_shared<Net>();
  nn::StateDict sd = a->state_dict();
  // PyTorch's order: a module's own parameters, then its buffers, then its children.
  EXPECT_EQ(sd.keys(), (std::vector<std::string>{"features.0.weight", "features.0.bias", "head.scale",
                                                 "head.fc.weight", "head.fc.bias"}));
  fill_(a->head->scale, 3.0);  // state_dict shares data with the module
  EXPECT_EQ(sd.at("head.scale").at({0}), 3.0);
  Tensor w_handle = b->features->at<nn::Linear>(0)->weight;  // what an optimizer would hold
  EXPECT_NE(w_handle.to_vector<float>(), a->features->at<nn::Linear>(0)->weight.to_vector<float>());
  auto r = b->load_state_dict(sd);
  EXPECT_TRUE(r.missing_keys.empty());
  EXPECT_TRUE(r.unexpected_keys.empty());
  for (auto& [k, t] : b->state_dict()) EXPECT_EQ(t.to_vector<float>(), sd.at(k).to_vector<float>()) << k;
  EXPECT_EQ(w_handle.to_vector<float>(), a->features->at<nn::Linear>(0)->weight.to_vector<float>());
  EXPECT_TRUE(w_handle.same(b->features->at<nn::Linear>(0)->weight));
  EXPECT_TRUE(w_handle.requires_grad());
  a->eval();
  b->eval();
  Tensor x = randn({2, 4});
  EXPECT_EQ(a->forward(x).to_vector<float>(), b->forward(x).to_vector<float>());
}

TEST(Module, LoadStateDictStrictErrors) {
  auto net = std::make_shared<Net>();
  nn::StateDict sd = net->state_dict();

  nn::StateDict missing;
  for (auto& [k, t] : sd)
    if (k != "head.fc.bias") missing.insert(k, t);
  try {
    net->load_state_dict(missing);
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("missing key 'head.fc.bias'"), std::string::npos) << e.what();
  }
  auto r = net->load_state_dict(missing, false);
  EXPECT_EQ(r.missing_keys, std::vector<std::string>{"head.fc.bias"});

  nn::StateDict extra = sd;
  extra.insert("head.fc.gamma", zeros({2}));
  try {
    net->load_state_dict(extra);
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("unexpected key 'head.fc.gamma'"), std::string::npos) << e.what();
  }
  EXPECT_EQ(net->load_state_dict(extra, false).unexpected_keys, std::vector<std::string>{"head.fc.gamma"});

  nn::StateDict wrong = sd;
  Tensor before = copy_as(net->features->at<nn::Linear>(0)->bias, DType::Float32);
  wrong.insert("features.0.bias", zeros({8}));
  wrong.insert("head.fc.weight", zeros({3, 8}));
  try {
    net->load_state_dict(wrong, false);
    FAIL();
  } catch (const ShapeError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("head.fc.weight"), std::string::npos) << m;
    EXPECT_NE(m.find("(3, 8)"), std::string::npos) << m;
    EXPECT_NE(m.find("(2, 8)"), std::string::npos) << m;
  }
  // A failed load writes nothing.
  EXPECT_EQ(net->features->at<nn::Linear>(0)->bias.to_vector<float>(), before.to_vector<float>());
}

TEST(Module, PrintsPyTorchLikeTree) {
  auto net = std::make_shared<Net>();
  std::ostringstream os;
  os << *net;
  EXPECT_EQ(os.str(),
            "Net(\n"
            "  (features): Sequential(\n"
            "    (0): Linear(in_features=4, out_features=8, bias=true)\n"
            "    (1): Functional()\n"
            "    (2): Dropout(p=0.1)\n"
            "  )\n"
            "  (head): Block(\n"
            "    (fc): Linear(in_features=8, out_features=2, bias=true)\n"
            "  )\n"
            ")");
  EXPECT_EQ(nn::Linear(nn::LinearOptions(4, 2).bias(false)).to_string(),
            "Linear(in_features=4, out_features=2, bias=false)");
  EXPECT_EQ(nn::Flatten().to_string(), "Flatten(start_dim=1, end_dim=-1)");
}

TEST(Module, LayerShapeErrorsNamePath) {
  auto net = std::make_shared<Net>();
  try {
    net->forward(zeros({3, 5}));
    FAIL();
  } catch (const ShapeError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("Linear 'features.0'"), std::string::npos) << m;
    EXPECT_NE(m.find("(..., 4)"), std::string::npos) << m;
    EXPECT_NE(m.find("(3, 5)"), std::string::npos) << m;
  }
  nn::Flatten f(1, 2);
  EXPECT_THROW(f.forward(zeros({3, 4})), ShapeError);
}
