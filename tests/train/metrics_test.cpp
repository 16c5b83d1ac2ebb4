// Metrics against hand-computed values.
#include "ember/train/metrics.h"

#include <gtest/gtest.h>

using namespace ember;
using namespace ember::train;

TEST(Metrics, SparseAndCategoricalAccuracy) {
  Tensor out = tensor({{0.1f, 0.7f, 0.2f}, {0.8f, 0.1f, 0.1f}, {0.3f, 0.3f, 0.4f}, {0.2f, 0.5f, 0.3f}});
  Tensor labels = from_vector(std::vector<int64_t>{1, 0, 0, 2});
  Accuracy acc;
  acc.update(out, labels);
  EXPECT_DOUBLE_EQ(acc.result(), 0.5);  // rows 0 and 1 right
  acc.update(tensor({{1.0f, 0.0f, 0.0f}}), from_vector(std::vector<int64_t>{0}));
  EXPECT_DOUBLE_EQ(acc.result(), 3.0 / 5.0);
  acc.reset();
  EXPECT_DOUBLE_EQ(acc.result(), 0.0);
  Accuracy cat(AccuracyKind::Categorical);
  cat.update(out, tensor({{0, 1, 0}, {1, 0, 0}, {0, 1, 0}, {0, 1, 0}}));
  EXPECT_DOUBLE_EQ(cat.result(), 0.75);
  EXPECT_THROW(Accuracy(AccuracyKind::Sparse).update(out, from_vector(std::vector<int64_t>{1, 0})),
               ShapeError);
}

TEST(Metrics, BinaryAccuracyThresholdAndLogits) {
  Tensor probs = tensor({0.9f, 0.4f, 0.6f, 0.1f});
  Tensor y = tensor({1.0f, 1.0f, 0.0f, 0.0f});
  Accuracy acc(AccuracyKind::Binary);
  acc.update(probs, y);
  EXPECT_DOUBLE_EQ(acc.result(), 0.5);
  Accuracy high(AccuracyKind::Binary, 0.65);
  high.update(probs, y);
  EXPECT_DOUBLE_EQ(high.result(), 0.75);  // 0.6 -> 0 now right
  Accuracy logits(AccuracyKind::Binary, 0.5, /*from_logits=*/true);
  logits.update(tensor({2.0f, -0.5f, 0.3f, -3.0f}), y);  // sigmoid > 0.5 <=> logit > 0
  EXPECT_DOUBLE_EQ(logits.result(), 0.5);
}

TEST(Metrics, TopK) {
  Tensor out = tensor({{0.1f, 0.5f, 0.2f, 0.2f}, {0.4f, 0.3f, 0.2f, 0.1f}, {0.1f, 0.2f, 0.3f, 0.4f}});
  TopKAccuracy top2(2);
  top2.update(out, from_vector(std::vector<int64_t>{2, 1, 0}));
  // row0: class 2 ties 0.2 with class 3 (above it only 0.5) -> in; row1: class 1 second -> in; row2: last ->
  // out
  EXPECT_DOUBLE_EQ(top2.result(), 2.0 / 3.0);
  EXPECT_EQ(top2.name(), "top2_accuracy");
  EXPECT_EQ(make_metric("top3_accuracy")->name(), "top3_accuracy");
}

TEST(Metrics, PrecisionRecallF1) {
  Tensor p = tensor({0.9f, 0.8f, 0.3f, 0.7f, 0.2f, 0.6f});
  Tensor y = tensor({1.0f, 0.0f, 1.0f, 1.0f, 0.0f, 0.0f});
  // predicted positive: 0,1,3,5; tp = {0,3} = 2, fp = {1,5} = 2, fn = {2} = 1
  auto prec = Precision(), rec = Recall(), f1 = F1Score();
  for (auto& m : {prec, rec, f1}) m->update(p, y);
  EXPECT_DOUBLE_EQ(prec->result(), 0.5);
  EXPECT_DOUBLE_EQ(rec->result(), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(f1->result(), 2 * 0.5 * (2.0 / 3.0) / (0.5 + 2.0 / 3.0));
}

TEST(Metrics, ConfusionMatrix) {
  ConfusionMatrix cm(3);
  cm.update(tensor({{3, 1, 0}, {0, 2, 1}, {0, 2, 1}, {1, 0, 5}}),
            from_vector(std::vector<int64_t>{0, 1, 2, 2}));
  EXPECT_EQ(cm.count(0, 0), 1);
  EXPECT_EQ(cm.count(1, 1), 1);
  EXPECT_EQ(cm.count(2, 1), 1);
  EXPECT_EQ(cm.count(2, 2), 1);
  EXPECT_DOUBLE_EQ(cm.result(), 0.75);
  EXPECT_EQ(cm.matrix().to_vector<int64_t>(), (std::vector<int64_t>{1, 0, 0, 0, 1, 0, 0, 1, 1}));
  EXPECT_NE(cm.to_string({"a", "b", "c"}).find("true\\pred"), std::string::npos);
  EXPECT_THROW(cm.update(tensor({{1, 0, 0}}), from_vector(std::vector<int64_t>{3})), IndexError);
}

TEST(Metrics, ByNameAndErrors) {
  EXPECT_EQ(make_metric("accuracy", "sparse_categorical_crossentropy")->name(), "accuracy");
  EXPECT_EQ(make_metric("precision")->name(), "precision");
  try {
    make_metric("acuracy");
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("acuracy"), std::string::npos);
  }
}
