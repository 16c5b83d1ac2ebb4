#include <gtest/gtest.h>

#include "ember/nn/nn.h"

using namespace ember;
namespace nn = ember::nn;

TEST(Sequential, LambdasNamesIndexingAndForward) {
  auto lin = std::make_shared<nn::Linear>(3, 2);
  nn::Sequential seq(std::make_shared<nn::Flatten>(), lin, [](const Tensor& x) { return x * 2.0; });
  ASSERT_EQ(seq.size(), 3u);
  EXPECT_EQ(seq[0]->type_name(), "Flatten");
  EXPECT_TRUE(seq.at<nn::Linear>(1) == lin);
  EXPECT_EQ(seq[-1]->type_name(), "Functional");
  EXPECT_THROW(seq[3], IndexError);
  EXPECT_THROW(seq.at<nn::Flatten>(1), ValueError);
  seq.push_back([](Tensor x) { return x + 1.0; });
  EXPECT_EQ(seq[3]->name(), "3");
  Tensor x = randn({4, 1, 3});
  Tensor y = seq.forward(x);
  Tensor expect = linear(reshape(x, {4, 3}), lin->weight, lin->bias) * 2.0 + 1.0;
  EXPECT_EQ(y.shape(), (Shape{4, 2}));
  EXPECT_EQ(y.to_vector<float>(), expect.to_vector<float>());
  int count = 0;
  for (auto& m : seq) count += m != nullptr;
  EXPECT_EQ(count, 4);
  seq.replace_module("3", std::make_shared<nn::Identity>());
  EXPECT_EQ(seq[3]->type_name(), "Identity");
  EXPECT_EQ(seq[3]->path(), "3");
  EXPECT_EQ(seq.forward(x).to_vector<float>(),
            (linear(reshape(x, {4, 3}), lin->weight, lin->bias) * 2.0).to_vector<float>());
  EXPECT_THROW(seq.replace_module("9", std::make_shared<nn::Identity>()), ValueError);
}

TEST(Sequential, NestedGradientsFlow) {
  auto seq =
      std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(3, 4),
                                       std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(4, 2)));
  EXPECT_EQ(seq->state_dict().keys(),
            (std::vector<std::string>{"0.weight", "0.bias", "1.0.weight", "1.0.bias"}));
  sum((*seq)(randn({5, 3}))).backward();
  for (auto& [n, p] : seq->named_parameters()) EXPECT_TRUE(p.grad().defined()) << n;
}

TEST(Sequential, StackAllocatedModulesAndApply) {
  nn::Sequential seq(std::make_shared<nn::Linear>(2, 3), std::make_shared<nn::Linear>(3, 1, false));
  auto mods = seq.named_modules();
  ASSERT_EQ(mods.size(), 3u);
  EXPECT_EQ(mods[0].second.get(), &seq);
  int linears = 0;
  seq.apply([&](nn::Module& m) {
    if (auto* l = dynamic_cast<nn::Linear*>(&m)) {
      ++linears;
      nn::init::constant_(l->weight, 0.25);
    }
  });
  EXPECT_EQ(linears, 2);
  for (double v : seq.at<nn::Linear>(1)->weight.to_double_vector()) EXPECT_EQ(v, 0.25);
}

TEST(ModuleList, IndexedNoForward) {
  nn::ModuleList list({std::make_shared<nn::Linear>(2, 2), std::make_shared<nn::Identity>()});
  list.push_back(std::make_shared<nn::Linear>(2, 1));
  EXPECT_EQ(list.size(), 3u);
  EXPECT_EQ(list[2]->path(), "2");
  EXPECT_EQ(list.at<nn::Linear>(2)->options().out_features(), 1);
  EXPECT_THROW(list.forward(zeros({1, 2})), ValueError);
  EXPECT_EQ(list.parameters().size(), 4u);
}

TEST(ModuleDict, ByNameInInsertionOrder) {
  nn::ModuleDict d;
  d.insert("encoder", std::make_shared<nn::Linear>(4, 2));
  d.insert("decoder", std::make_shared<nn::Linear>(2, 4));
  EXPECT_EQ(d.keys(), (std::vector<std::string>{"encoder", "decoder"}));
  EXPECT_TRUE(d.contains("decoder"));
  EXPECT_FALSE(d.contains("x"));
  EXPECT_THROW(d["x"], ValueError);
  EXPECT_EQ(d.at<nn::Linear>("decoder")->options().in_features(), 2);
  EXPECT_EQ(d.state_dict().keys()[2], "decoder.weight");
}

TEST(Layers, IdentityFlattenDropoutFunctional) {
  Tensor x = randn({2, 3, 4});
  EXPECT_TRUE(nn::Identity().forward(x).same(x));
  EXPECT_EQ(nn::Flatten().forward(x).shape(), (Shape{2, 12}));
  EXPECT_EQ(nn::Flatten(0, 1).forward(x).shape(), (Shape{6, 4}));
  EXPECT_EQ(nn::Flatten(nn::FlattenOptions().start_dim(0)).forward(x).shape(), (Shape{24}));
  nn::Dropout d(0.5);
  d.eval();
  EXPECT_TRUE(d.forward(x).same(x));
  d.train();
  Generator g(1);
  nn::Dropout dg(0.5, &g);
  auto v = dg.forward(ones({1000})).to_vector<float>();
  int zeros_count = 0;
  for (float e : v) zeros_count += e == 0.f;
  EXPECT_GT(zeros_count, 400);
  EXPECT_LT(zeros_count, 600);
  EXPECT_THROW(nn::Dropout(1.2), ValueError);
  nn::Functional sq([](const Tensor& t) { return t * t; }, "Square");
  EXPECT_EQ(sq.to_string(), "Square()");
  EXPECT_EQ(sq(full({2}, 3.0)).to_vector<float>(), (std::vector<float>{9, 9}));
}
