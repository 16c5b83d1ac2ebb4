// Keras recurrent layers (compiled once the nn recurrent modules are in the tree).
#include <gtest/gtest.h>

#include <algorithm>

#include "ember/ops/ops.h"
#include "ember/train/train.h"

#if __has_include("ember/nn/rnn.h") && __has_include("ember/nn/embedding.h")
#include "ember/nn/rnn.h"

using namespace ember;
using namespace ember::keras;

TEST(RnnLayers, ShapesNamesAndLastStep) {
  manual_seed(0);
  Sequential m({Input({6}), Embedding(20, 8), Bidirectional(LSTM(5)), Dense(2)});
  m.build();
  EXPECT_EQ(m.layers()[1]->output_shape, (Shape{6, 8}));
  EXPECT_EQ(m.layers()[2]->output_shape, (Shape{10}));
  auto keys = m.module()->state_dict().keys();
  EXPECT_EQ(keys.front(), "0.weight");
  EXPECT_NE(std::find(keys.begin(), keys.end(), "1.weight_ih_l0_reverse"), keys.end());
  EXPECT_NE(std::find(keys.begin(), keys.end(), "3.weight"), keys.end());  // 2 is the LastTimeStep module
  Sequential s({Input({4, 3}), GRU(7, /*return_sequences=*/true)});
  s.build();
  Tensor x = randn({2, 4, 3});
  Tensor seq = s.predict(x);
  EXPECT_EQ(seq.shape(), (Shape{2, 4, 7}));
  Sequential last({Input({4, 3}), GRU(7)});
  last.build();
  last.module()->load_state_dict(s.module()->state_dict());
  auto a = last.predict(x).to_vector<float>(), b = contiguous(select(seq, 1, 3)).to_vector<float>();
  EXPECT_EQ(a, b);
  auto again = model_from_json(m.to_json_string());
  EXPECT_EQ(again->module()->state_dict().keys(), keys);
}
#endif
