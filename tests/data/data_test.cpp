// Data layer: datasets, loader determinism, augmentation geometry, text preprocessing (Keras semantics).
#include "ember/data/data.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

using namespace ember;
using namespace ember::data;

namespace {
std::shared_ptr<TensorDataset> counting_dataset(int64_t n) {
  Tensor x = empty({n, 1, 4, 4});
  float* p = x.data<float>();
  for (int64_t i = 0; i < n * 16; ++i) p[i] = static_cast<float>(i / 16) + 0.01f * static_cast<float>(i % 16);
  return tensor_dataset(x, arange(n));
}
}  // namespace

TEST(Dataset, TensorDatasetGetAndBatch) {
  auto ds = counting_dataset(10);
  EXPECT_EQ(ds->size(), 10);
  Example e = ds->get(3);
  EXPECT_EQ(e.x.shape(), (Shape{1, 4, 4}));
  EXPECT_FLOAT_EQ(e.x.at<float>({0, 0, 1}), 3.01f);
  EXPECT_EQ(e.y.item<int64_t>(), 3);
  EXPECT_THROW(ds->get(10), IndexError);
  EXPECT_THROW(TensorDataset(zeros({3, 2}), zeros({4})), ShapeError);
}

TEST(Dataset, SubsetConcatTransformSplit) {
  auto ds = counting_dataset(10);
  auto sub = std::make_shared<Subset>(ds, std::vector<int64_t>{7, 2});
  EXPECT_EQ(sub->get(0).y.item<int64_t>(), 7);
  Tensor bx = empty({2, 1, 4, 4}), by = empty({2}, DType::Int64);
  int64_t idx[2] = {1, 0};
  sub->get_batch(idx, 2, bx, by);
  EXPECT_EQ(by.to_vector<int64_t>(), (std::vector<int64_t>{2, 7}));
  ConcatDataset cat({ds, sub});
  EXPECT_EQ(cat.size(), 12);
  EXPECT_EQ(cat.get(11).y.item<int64_t>(), 2);
  TransformDataset tr(ds, [](Example e) {
    e.y = scalar_tensor(e.y.item() * 2, DType::Int64);
    return e;
  });
  EXPECT_EQ(tr.get(4).y.item<int64_t>(), 8);
  auto [train, val] = train_val_split(ds, 0.3, 5);
  EXPECT_EQ(train->size(), 7);
  EXPECT_EQ(val->size(), 3);
  std::set<int64_t> all(train->indices().begin(), train->indices().end());
  all.insert(val->indices().begin(), val->indices().end());
  EXPECT_EQ(all.size(), 10u);
  auto [train2, val2] = train_val_split(ds, 0.3, 5);
  EXPECT_EQ(val->indices(), val2->indices());
  EXPECT_THROW(ConcatDataset({ds, tensor_dataset(zeros({2, 3}), zeros({2}))}), ShapeError);
}

// A dataset without a get_batch override: the loader's generic collation must agree with the fast path.
class PlainDataset : public Dataset {
 public:
  explicit PlainDataset(std::shared_ptr<TensorDataset> d) : d_(std::move(d)) {}
  int64_t size() const override { return d_->size(); }
  Example get(int64_t i) const override { return d_->get(i); }

 private:
  std::shared_ptr<TensorDataset> d_;
};

TEST(DataLoader, GenericCollationMatchesFastPathAndSubsets) {
  auto ds = counting_dataset(23);
  auto plain = std::make_shared<PlainDataset>(ds);
  auto opt = DataLoaderOptions().batch_size(5).shuffle(true).seed(9).num_workers(1);
  DataLoader a(ds, opt), b(plain, opt);
  std::vector<std::vector<float>> ra, rb;
  for (const Batch& x : a) ra.push_back(x.x.to_vector<float>());
  for (const Batch& x : b) rb.push_back(x.x.to_vector<float>());
  EXPECT_EQ(ra, rb);
  auto [train, val] = train_val_split(ds, 0.2, 1);
  DataLoader lv(val, DataLoaderOptions().batch_size(2));
  std::vector<int64_t> got;
  for (const Batch& x : lv)
    for (int64_t v : x.y.to_vector<int64_t>()) got.push_back(v);
  EXPECT_EQ(got, val->indices());
}

TEST(DataLoader, BatchesCoverEpochAndDropLast) {
  auto ds = counting_dataset(10);
  DataLoader loader(ds, DataLoaderOptions().batch_size(4).shuffle(true).seed(3));
  std::multiset<int64_t> seen;
  int64_t batches = 0;
  for (const Batch& b : loader) {
    EXPECT_EQ(b.x.size(0), b.y.size(0));
    for (int64_t v : b.y.to_vector<int64_t>()) seen.insert(v);
    // x rows belong to their labels
    for (int64_t k = 0; k < b.x.size(0); ++k)
      EXPECT_FLOAT_EQ(b.x.at<float>({k, 0, 0, 0}), static_cast<float>(b.y.at<int64_t>({k})));
    ++batches;
  }
  EXPECT_EQ(batches, 3);
  EXPECT_EQ(seen.size(), 10u);
  EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()).size(), 10u);
  DataLoader dl(ds, DataLoaderOptions().batch_size(4).drop_last(true));
  int64_t n = 0;
  for (const Batch& b : dl) n += b.x.size(0);
  EXPECT_EQ(n, 8);
  EXPECT_EQ(dl.num_batches(), 2);
}

std::vector<std::vector<float>> collect(DataLoader& loader) {
  std::vector<std::vector<float>> out;
  for (const Batch& b : loader) {
    out.push_back(b.x.to_vector<float>());
    auto y = b.y.to_vector<float>();
    out.back().insert(out.back().end(), y.begin(), y.end());
  }
  return out;
}

TEST(DataLoader, SameSeedSameBatchesWhateverTheThreadCount) {
  auto ds = counting_dataset(50);
  auto aug = compose({random_rotation(20), random_crop(1), horizontal_flip(0.5), random_scale(0.9, 1.1)});
  std::vector<std::vector<std::vector<float>>> runs;
  for (int workers : {0, 1, 2, 3}) {
    DataLoader loader(
        ds, DataLoaderOptions().batch_size(8).shuffle(true).seed(11).num_workers(workers).prefetch(2).augment(
                aug));
    loader.set_epoch(4);
    runs.push_back(collect(loader));
  }
  for (size_t r = 1; r < runs.size(); ++r) EXPECT_EQ(runs[r], runs[0]) << "workers run " << r;
  // A different epoch gives a different order/augmentation; a different seed too.
  DataLoader other(ds, DataLoaderOptions().batch_size(8).shuffle(true).seed(11).augment(aug));
  other.set_epoch(5);
  EXPECT_NE(collect(other), runs[0]);
}

TEST(DataLoader, HeldBatchIsNotOverwritten) {
  auto ds = counting_dataset(40);
  DataLoader loader(ds, DataLoaderOptions().batch_size(4).num_workers(2).prefetch(1));
  std::vector<Batch> kept;
  for (const Batch& b : loader) kept.push_back(b);
  ASSERT_EQ(kept.size(), 10u);
  for (size_t i = 0; i < kept.size(); ++i)
    EXPECT_EQ(kept[i].y.to_vector<int64_t>()[0], static_cast<int64_t>(4 * i)) << i;
}

TEST(DataLoader, ReusesBatchBuffersAcrossBatchesAndEpochs) {
  auto ds = counting_dataset(64);
  for (int workers : {0, 2}) {
    DataLoader loader(ds, DataLoaderOptions().batch_size(4).num_workers(workers).prefetch(2));
    std::set<const void*> first, second;
    for (const Batch& b : loader) first.insert(b.x.raw_data());
    for (const Batch& b : loader) second.insert(b.x.raw_data());
    EXPECT_LE(first.size(), 3u) << workers;  // prefetch + 1 buffers for 16 batches
    for (const void* p : second) EXPECT_TRUE(first.count(p)) << workers;
  }
}

TEST(DataLoader, BreakingEarlyAndWorkerErrors) {
  auto ds = counting_dataset(100);
  DataLoader loader(ds, DataLoaderOptions().batch_size(4).num_workers(2));
  for (const Batch& b : loader) {
    (void)b;
    break;
  }
  int64_t n = 0;
  for (const Batch& b : loader) n += b.x.size(0);
  EXPECT_EQ(n, 100);
  // An augmentation that needs more channels than the data has fails in the worker; the error reaches the
  // caller.
  DataLoader bad(ds,
                 DataLoaderOptions().batch_size(4).num_workers(1).augment(normalize({0, 0, 0}, {1, 1, 1})));
  EXPECT_THROW(for (const Batch& b : bad)(void) b, ShapeError);
  EXPECT_THROW(DataLoader(ds, DataLoaderOptions().batch_size(0)), ValueError);
}

// ---- augmentation geometry ----
Tensor horizontal_line(int64_t n) {
  Tensor img = zeros({1, n, n});
  for (int64_t x = 0; x < n; ++x) img.set({0, n / 2, x}, 1.0);
  return img;
}

TEST(Augment, RotationByNinetyTurnsHorizontalLineVertical) {
  const int64_t n = 9;
  Tensor img = horizontal_line(n), out = zeros({1, n, n});
  rotate_scale(img.data<float>(), out.data<float>(), 1, n, n, 90.0, 1.0);
  for (int64_t y = 0; y < n; ++y)
    for (int64_t x = 0; x < n; ++x)
      EXPECT_NEAR(out.at<float>({0, y, x}), x == n / 2 ? 1.0f : 0.0f, 1e-5) << y << "," << x;
  // Counter-clockwise: a dot right of the centre moves above it.
  Tensor dot = zeros({1, n, n});
  dot.set({0, 4, 7}, 1.0);
  rotate_scale(dot.data<float>(), out.data<float>(), 1, n, n, 90.0, 1.0);
  EXPECT_NEAR(out.at<float>({0, 1, 4}), 1.0f, 1e-5);
  // 45 degrees: the line becomes the anti-diagonal through the centre (bilinear keeps the centre at 1).
  rotate_scale(img.data<float>(), out.data<float>(), 1, n, n, 45.0, 1.0);
  EXPECT_NEAR(out.at<float>({0, 4, 4}), 1.0f, 1e-5);
  EXPECT_GT(out.at<float>({0, 2, 6}), 0.5f);
  EXPECT_LT(out.at<float>({0, 2, 2}), 0.1f);
}

TEST(Augment, ScaleShiftCropFlipNormalize) {
  const int64_t n = 9;
  Tensor dot = zeros({1, n, n}), out = zeros({1, n, n});
  dot.set({0, 4, 6}, 1.0);                                                // 2 right of centre
  rotate_scale(dot.data<float>(), out.data<float>(), 1, n, n, 0.0, 2.0);  // zoom x2: 4 right of centre
  EXPECT_NEAR(out.at<float>({0, 4, 8}), 1.0f, 1e-5);
  shift(dot.data<float>(), out.data<float>(), 1, n, n, -3, 2);
  EXPECT_EQ(out.at<float>({0, 6, 3}), 1.0f);
  auto v = out.to_vector<float>();
  EXPECT_EQ(std::accumulate(v.begin(), v.end(), 0.0f), 1.0f);
  // Crop with padding 2 = a shift in [-2, 2]^2: the dot moves by at most 2 and survives.
  Tensor c = apply_augmentation(*random_crop(2), dot, 123);
  auto cv = c.to_vector<float>();
  auto at = std::max_element(cv.begin(), cv.end()) - cv.begin();
  EXPECT_EQ(cv[at], 1.0f);
  EXPECT_LE(std::abs(at / n - 4), 2);
  EXPECT_LE(std::abs(at % n - 6), 2);
  // Translation by at most 20% of 10 pixels = 2.
  Tensor t = apply_augmentation(*random_translation(0.2, 0.2), dot, 9);
  auto tv = t.to_vector<float>();
  EXPECT_EQ(std::accumulate(tv.begin(), tv.end(), 0.0f), 1.0f);
  Tensor f = apply_augmentation(*horizontal_flip(1.0), dot, 1);
  EXPECT_EQ(f.at<float>({0, 4, 2}), 1.0f);
  Tensor z = apply_augmentation(*normalize({0.5f}, {0.25f}), dot, 1);
  EXPECT_FLOAT_EQ(z.at<float>({0, 4, 6}), 2.0f);
  EXPECT_FLOAT_EQ(z.at<float>({0, 0, 0}), -2.0f);
  // Same seed, same result; the per-sample seed depends on all three inputs.
  auto aug = compose({random_rotation(30), random_scale(0.8, 1.2), random_translation(0.1, 0.1)});
  EXPECT_EQ(apply_augmentation(*aug, dot, 77).to_vector<float>(),
            apply_augmentation(*aug, dot, 77).to_vector<float>());
  EXPECT_NE(apply_augmentation(*aug, dot, 77).to_vector<float>(),
            apply_augmentation(*aug, dot, 78).to_vector<float>());
  EXPECT_NE(sample_seed(1, 2, 3), sample_seed(1, 3, 2));
  EXPECT_NE(sample_seed(1, 2, 3), sample_seed(2, 2, 3));
}

// ---- text: values checked against tf.keras.preprocessing semantics ----
TEST(Text, TokenizerKerasSemantics) {
  EXPECT_EQ(split_words("Hello, WORLD! it's 2x"),
            (std::vector<std::string>{"hello", "world", "it", "s", "x"}));
  Tokenizer tok(TokenizerOptions().oov_token("<oov>").num_words(4));
  tok.fit_on_texts({"the cat sat", "the dog sat", "the end"});
  // counts: the 3, sat 2, cat 1, dog 1, end 1; oov = 1, then by count, ties first-seen first.
  EXPECT_EQ(tok.index_of("<oov>"), 1);
  EXPECT_EQ(tok.index_of("the"), 2);
  EXPECT_EQ(tok.index_of("sat"), 3);
  EXPECT_EQ(tok.index_of("cat"), 4);
  EXPECT_EQ(tok.index_of("dog"), 5);
  EXPECT_EQ(tok.word_of(6), "end");
  EXPECT_THROW(tok.word_of(7), IndexError);
  // num_words=4 keeps indices < 4; others become oov.
  EXPECT_EQ(tok.text_to_sequence("The cat sat on the mat"), (std::vector<int64_t>{2, 1, 3, 1, 2, 1}));
  EXPECT_EQ(tok.sequence_to_text({2, 3, 5, 0}), "the sat <oov>");
  EXPECT_EQ(tok.vocab_size(), 4);
  Tokenizer plain;
  plain.fit_on_texts({"b a b"});
  EXPECT_EQ(plain.text_to_sequence("a b c"), (std::vector<int64_t>{2, 1}));  // unknown dropped without oov
  Tokenizer chars(TokenizerOptions().char_level(true));
  chars.fit_on_texts({"Abba"});
  EXPECT_EQ(chars.text_to_sequence("ab"), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(chars.sequence_to_text({2, 1, 1}), "baa");
}

TEST(Text, PadSequencesLikeKeras) {
  std::vector<std::vector<int64_t>> s = {{1, 2, 3}, {4, 5}, {6, 7, 8, 9}};
  // keras.preprocessing.sequence.pad_sequences(s, maxlen=3) -> [[1,2,3],[0,4,5],[7,8,9]]
  EXPECT_EQ(pad_sequences(s, 3).to_vector<int64_t>(), (std::vector<int64_t>{1, 2, 3, 0, 4, 5, 7, 8, 9}));
  // padding='post', truncating='post' -> [[1,2,3],[4,5,0],[6,7,8]]
  EXPECT_EQ(pad_sequences(s, 3, Pad::Post, Pad::Post).to_vector<int64_t>(),
            (std::vector<int64_t>{1, 2, 3, 4, 5, 0, 6, 7, 8}));
  // maxlen=None -> longest (4), value=-1
  Tensor t = pad_sequences(s, -1, Pad::Pre, Pad::Pre, -1);
  EXPECT_EQ(t.shape(), (Shape{3, 4}));
  EXPECT_EQ(t.to_vector<int64_t>(), (std::vector<int64_t>{-1, 1, 2, 3, -1, -1, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(pad_sequences({{}, {1}}, 2).to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 0, 1}));
}

TEST(Text, StripMailHeaders) {
  EXPECT_EQ(strip_mail_headers("From: a@b\nSubject: hi\n\nBody text\n\nmore"), "Body text\n\nmore");
  EXPECT_EQ(strip_mail_headers("Subject: x\r\n\r\nbody"), "body");
  EXPECT_EQ(strip_mail_headers("Subject: only headers\n"), "");
  EXPECT_EQ(strip_mail_headers("just a note, no headers"), "just a note, no headers");
}
