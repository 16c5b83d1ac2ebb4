// Keras convolution layers: shapes, PyTorch names, summary with batch-norm statistics, JSON round trip, and
// a tiny CNN that learns.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "ember/ops/ops.h"
#include "ember/train/train.h"

using namespace ember;
using namespace ember::keras;

TEST(CnnLayers, ShapesNamesAndSummary) {
  Sequential m({Input({3, 16, 16}), Conv2D(8, {3, 3}, "relu", {1, 1}, "same"), BatchNormalization(),
                MaxPooling2D({2, 2}), Conv2D(4, {3, 3}, "", {2, 2}), AveragePooling2D({2, 2}, {1, 1}),
                GlobalAveragePooling2D(), Dense(2)},
               "cnn");
  m.build();
  EXPECT_EQ(m.layers()[1]->output_shape, (Shape{8, 16, 16}));
  EXPECT_EQ(m.layers()[3]->output_shape, (Shape{8, 8, 8}));
  EXPECT_EQ(m.layers()[4]->output_shape, (Shape{4, 3, 3}));
  EXPECT_EQ(m.layers()[5]->output_shape, (Shape{4, 2, 2}));
  EXPECT_EQ(m.output_shape(), (Shape{2}));
  EXPECT_EQ(
      m.module()->state_dict().keys(),
      (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias", "2.running_mean", "2.running_var",
                                "2.num_batches_tracked", "4.weight", "4.bias", "7.weight", "7.bias"}));
  Tensor y = m.predict(randn({2, 3, 16, 16}));
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  std::string s = m.summary_string();
  EXPECT_NE(s.find(" conv2d (Conv2D)             (None, 8, 16, 16)         224\n"), std::string::npos) << s;
  EXPECT_NE(s.find(" batch_normalization (BatchNormalization)"), std::string::npos) << s;
  EXPECT_NE(s.find(" max_pooling2d (MaxPooling2D)"), std::string::npos) << s;
  // BN: 16 trainable (gamma, beta) + 16 non-trainable (running mean/var), like Keras.
  int64_t total = 224 + 32 + (8 * 9 * 4 + 4) + (4 * 2 + 2);
  EXPECT_NE(s.find("Total params: " + std::to_string(total) + "\n"), std::string::npos) << s;
  EXPECT_NE(s.find("Non-trainable params: 16\n"), std::string::npos) << s;
  auto again = model_from_json(m.to_json_string());
  EXPECT_EQ(again->to_json(), m.to_json());
  EXPECT_EQ(again->module()->state_dict().keys(), m.module()->state_dict().keys());
}

TEST(CnnLayers, Errors) {
  Sequential bad({Input({1, 4, 4}), Conv2D(2, {5, 5})});
  EXPECT_THROW(bad.build(), ShapeError);
  Sequential even({Input({1, 8, 8}), Conv2D(2, {3, 3}, "", {2, 2}, "same")});
  EXPECT_THROW(even.build(), ValueError);  // asymmetric "same" padding
  EXPECT_THROW(Conv2D(2, {3, 3}, "", {1, 1}, "full"), ValueError);
  Sequential flat({Input({10}), Conv2D(2, {3, 3})});
  EXPECT_THROW(flat.build(), ShapeError);
}

TEST(CnnLayers, TinyCnnLearns) {
  // Class = whether the bright blob is in the left or the right half.
  manual_seed(0);
  Generator g(1);
  int64_t n = 128;
  Tensor x = mul(randn({n, 1, 8, 8}, &g), 0.1);
  std::vector<int64_t> labels(n);
  for (int64_t i = 0; i < n; ++i) {
    labels[i] = i % 2;
    int64_t c = labels[i] ? 5 : 1;
    for (int64_t r = 2; r < 5; ++r)
      for (int64_t k = c; k < c + 2; ++k) x.set({i, 0, r, k}, 1.0);
  }
  Tensor y = from_vector(labels);
  Sequential m({Input({1, 8, 8}), Conv2D(4, {3, 3}, "relu"), MaxPooling2D({2, 2}), Flatten(), Dense(2)});
  m.compile("adam", "sparse_categorical_crossentropy", {"accuracy"}, true);
  History h = m.fit(x, y, FitOptions().epochs(15).batch_size(16).verbose(0));
  EXPECT_GT(h["accuracy"].back(), 0.95);
}
