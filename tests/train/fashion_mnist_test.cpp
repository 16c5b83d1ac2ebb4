// End to end on real data: one short epoch on a Fashion-MNIST subset must reach accuracy well above chance
// (10%). Uses the data set installed by Debian's dataset-fashion-mnist (see docs/data.md).
#include <gtest/gtest.h>

#include "ember/data/readers.h"
#include "ember/train/train.h"

using namespace ember;
using namespace ember::keras;

namespace {

std::shared_ptr<data::Dataset> first_n(const data::DatasetPtr& ds, int64_t n) {
  std::vector<int64_t> idx(n);
  for (int64_t i = 0; i < n; ++i) idx[i] = i;
  return std::make_shared<data::Subset>(ds, idx);
}

}  // namespace

TEST(FashionMnist, MlpOneEpochWellAboveChance) {
  NamedDataset fm = load_dataset("fashion_mnist");
  manual_seed(0);
  Sequential model({Input({1, 28, 28}), Flatten(), Dense(128, "relu"), Dense(10)});
  model.compile("adam", "sparse_categorical_crossentropy", {"accuracy"}, /*from_logits=*/true);
  History h = model.fit(first_n(fm.train, 8000), FitOptions().epochs(1).batch_size(64).seed(1).verbose(0));
  Logs test = model.evaluate(first_n(fm.test, 2000), 256);
  EXPECT_GT(h["accuracy"][0], 0.6);
  EXPECT_GT(test["accuracy"], 0.7);
}

#if __has_include("ember/nn/conv.h") && __has_include("ember/nn/pooling.h")
TEST(FashionMnist, SeedCnnOneEpochWellAboveChance) {
  NamedDataset fm = load_dataset("fashion_mnist");
  manual_seed(0);
  Sequential model({Input({1, 28, 28}), Conv2D(32, {3, 3}, "relu"), MaxPooling2D({2, 2}), Flatten(),
                    Dense(128, "relu"), Dense(10)});
  model.compile("adam", "sparse_categorical_crossentropy", {"accuracy"}, /*from_logits=*/true);
  EXPECT_EQ(model.module()->state_dict().keys(),
            (std::vector<std::string>{"0.weight", "0.bias", "4.weight", "4.bias", "6.weight", "6.bias"}));
  model.fit(first_n(fm.train, 4000),
            FitOptions().epochs(1).batch_size(64).seed(1).verbose(1));  // prints samples/s
  Logs test = model.evaluate(first_n(fm.test, 1000), 256);
  EXPECT_GT(test["accuracy"], 0.65);
}
#endif
