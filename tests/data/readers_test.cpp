// Readers on generated files (good and corrupt) and on the real data sets (installed by
// scripts/install_data.sh).
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "ember/data/data.h"

using namespace ember;
using namespace ember::data;
namespace fs = std::filesystem;

namespace {
fs::path tmp_dir() {
  fs::path d = fs::temp_directory_path() / ("ember_data_test_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}
std::string write_file(const std::string& name, const std::string& bytes) {
  fs::path p = tmp_dir() / name;
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return p.string();
}
std::string gzip_bytes(const std::string& raw) {
  fs::path p = tmp_dir() / "tmp.gz";
  gzFile g = gzopen(p.c_str(), "wb");
  gzwrite(g, raw.data(), static_cast<unsigned>(raw.size()));
  gzclose(g);
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
std::string be32(uint32_t v) {
  return {char(v >> 24), char((v >> 16) & 255), char((v >> 8) & 255), char(v & 255)};
}
std::string idx_images(uint32_t n, uint32_t h, uint32_t w, size_t data_bytes) {
  std::string s = std::string("\0\0\x08\x03", 4) + be32(n) + be32(h) + be32(w);
  for (size_t i = 0; i < data_bytes; ++i) s += char(i % 256);
  return s;
}
std::string idx_labels(uint32_t n) {
  std::string s = std::string("\0\0\x08\x01", 4) + be32(n);
  for (uint32_t i = 0; i < n; ++i) s += char(i % 10);
  return s;
}
// Runs f, expects exception E whose message contains every needle.
template <typename E, typename F>
void expect_error(F f, std::vector<std::string> needles) {
  try {
    f();
    ADD_FAILURE() << "no exception";
  } catch (const E& e) {
    for (const auto& n : needles) EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what();
  }
}
}  // namespace

TEST(Idx, RawAndGzipReadTheSame) {
  const std::string raw = idx_images(3, 2, 2, 12);
  auto a = read_idx_images(write_file("a.idx", raw));
  auto b = read_idx_images(write_file("a.idx.gz", gzip_bytes(raw)));
  EXPECT_EQ(a.shape(), (Shape{3, 1, 2, 2}));
  EXPECT_EQ(a.to_vector<float>(), b.to_vector<float>());
  EXPECT_FLOAT_EQ(a.at<float>({2, 0, 1, 1}), 11.0f / 255.0f);
  auto l = read_idx_labels(write_file("l.idx.gz", gzip_bytes(idx_labels(5))));
  EXPECT_EQ(l.dtype(), DType::Int64);
  EXPECT_EQ(l.to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 2, 3, 4}));
  std::vector<uint8_t> big(3000000);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 7);
  std::vector<float> f(big.size());
  bytes_to_unit_float(big.data(), f.data(), static_cast<int64_t>(big.size()));
  for (size_t i = 0; i < big.size(); i += 9973) EXPECT_EQ(f[i], static_cast<float>(big[i]) / 255.0f);
}

TEST(BadInput, IdxFiles) {
  std::string bad_magic = idx_images(1, 2, 2, 4);
  bad_magic[0] = 7;
  auto p1 = write_file("bad_magic.idx", bad_magic);
  expect_error<IOError>([&] { read_idx_images(p1); }, {p1, "magic"});
  auto p2 = write_file("short.idx", idx_images(4, 2, 2, 10));
  expect_error<IOError>([&] { read_idx_images(p2); }, {p2, "16 bytes of data declared, 10 present"});
  auto p3 = write_file("trunc.idx.gz", gzip_bytes(idx_images(50, 10, 10, 5000)).substr(0, 200));
  expect_error<IOError>([&] { read_idx_images(p3); }, {p3, "gzip"});
  auto p4 = write_file("labels_as_images.idx", idx_labels(3));
  expect_error<IOError>([&] { read_idx_images(p4); }, {p4, "expected 3"});
  expect_error<IOError>([&] { read_idx_images((tmp_dir() / "nope.idx").string()); },
                        {"nope.idx", "cannot open"});
  // Image/label count mismatch in a Fashion-MNIST folder.
  fs::path d = tmp_dir() / "fm";
  write_file("fm/train-images-idx3-ubyte", idx_images(3, 2, 2, 12));
  write_file("fm/train-labels-idx1-ubyte", idx_labels(2));
  write_file("fm/t10k-images-idx3-ubyte", idx_images(1, 2, 2, 4));
  write_file("fm/t10k-labels-idx1-ubyte", idx_labels(1));
  expect_error<IOError>([&] { load_fashion_mnist(d.string()); }, {"train-images-idx3-ubyte' holds 3 images",
                                                                  "train-labels-idx1-ubyte' holds 2 labels"});
  expect_error<IOError>([&] { load_fashion_mnist((tmp_dir() / "empty").string()); },
                        {"Fashion-MNIST", "install_deps.sh"});
}

TEST(BadInput, JsonDatasets) {
  write_file("mn/0.json", "{ \"data\": [0, 0.5, ");
  expect_error<IOError>([&] { load_mnist(0.2, 42, (tmp_dir() / "mn").string()); },
                        {"0.json", "malformed JSON"});
  write_file("mn2/0.json", "{ \"data\": [0, 0.5] }");
  expect_error<IOError>([&] { load_mnist(0.2, 42, (tmp_dir() / "mn2").string()); },
                        {"0.json", "multiple of 784"});
  expect_error<IOError>([&] { load_mnist(0.2, 42, (tmp_dir() / "none").string()); },
                        {"MNIST", "install_data.sh"});
  write_file("sp/easy-ham-1/1.json", "{\"text\": \"x\", \"group\": \"easy-ham-1\"}");
  write_file("sp/easy-ham-2/1.json", "{\"text\": \"x\" \"group\"}");
  expect_error<IOError>([&] { load_spam_assassin(0.2, 42, (tmp_dir() / "sp").string()); },
                        {"easy-ham-2/1.json", "malformed JSON"});
  expect_error<IOError>([&] { load_spam_assassin(0.2, 42, (tmp_dir() / "none").string()); },
                        {"SpamAssassin", "install_data.sh"});
}

TEST(Csv, RegressionAndClassification) {
  auto p = write_file("ok.csv", "a,b,label\n1,2,3.5\n\"4\",5e1,-1\n");
  CsvData r = read_csv(p, CsvOptions().label_column("label"));
  EXPECT_EQ(r.dataset->x().to_vector<float>(), (std::vector<float>{1, 2, 4, 50}));
  EXPECT_EQ(r.dataset->y().shape(), (Shape{2, 1}));
  EXPECT_EQ(r.dataset->y().to_vector<float>(), (std::vector<float>{3.5f, -1}));
  EXPECT_EQ(r.feature_names, (std::vector<std::string>{"a", "b"}));
  auto q = write_file("cls.csv", "species,x\nsetosa,1\nvirginica,2\nsetosa,3\r\n");
  CsvData c = read_csv(q, CsvOptions().label_column("species").classification(true));
  EXPECT_EQ(c.class_names, (std::vector<std::string>{"setosa", "virginica"}));
  EXPECT_EQ(c.dataset->y().to_vector<int64_t>(), (std::vector<int64_t>{0, 1, 0}));
}

TEST(BadInput, CsvFiles) {
  auto p1 = write_file("cols.csv", "a,b,y\n1,2,3\n4,5\n");
  expect_error<IOError>([&] { read_csv(p1, CsvOptions().label_column("y")); }, {p1, "line 3", "2 columns"});
  auto p2 = write_file("nan.csv", "a,b,y\n1,2,3\n4,abc,6\n");
  expect_error<IOError>([&] { read_csv(p2, CsvOptions().label_column("y")); },
                        {p2, "line 3", "column 2", "'b'", "abc"});
  expect_error<ValueError>([&] { read_csv(p2, CsvOptions().label_column("zzz")); }, {"zzz"});
  auto p3 = write_file("lab.csv", "a,y\n1,x\n");
  expect_error<IOError>([&] { read_csv(p3, CsvOptions().label_column("y")); }, {p3, "line 2", "column 2"});
}

TEST(Images, FolderResizeAndCorruptFile) {
  // A 2x2 grey PGM (white, black / black, white) and a 4x2 RGB PPM.
  write_file("img/cat/a.pgm", std::string("P5\n2 2\n255\n") + char(255) + char(0) + char(0) + char(255));
  std::string ppm = "P6\n4 2\n255\n";
  for (int i = 0; i < 8; ++i) ppm += std::string{char(255), char(0), char(i * 30)};
  write_file("img/dog/b.ppm", ppm);
  write_file("img/dog/notes.txt", "ignored");
  ImageFolder f = load_image_folder((tmp_dir() / "img").string(), 2, 2, 3);
  EXPECT_EQ(f.class_names, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(f.dataset->x().shape(), (Shape{2, 3, 2, 2}));
  EXPECT_EQ(f.dataset->y().to_vector<int64_t>(), (std::vector<int64_t>{0, 1}));
  EXPECT_FLOAT_EQ(f.dataset->x().at<float>({0, 1, 0, 0}), 1.0f);  // grey -> all channels
  EXPECT_FLOAT_EQ(f.dataset->x().at<float>({0, 2, 0, 1}), 0.0f);
  EXPECT_FLOAT_EQ(f.dataset->x().at<float>({1, 0, 1, 1}), 1.0f);  // red everywhere
  // Bilinear downsizing 4 -> 2 columns averages pairs (align_corners=False): blue (i*30)/255.
  EXPECT_NEAR(f.dataset->x().at<float>({1, 2, 0, 0}), 15.0f / 255.0f, 1e-6);
  write_file("img/dog/c.png", "\x89PNG\r\n\x1a\n garbage");
  auto p = (tmp_dir() / "img/dog/c.png").string();
  expect_error<IOError>([&] { load_image_folder((tmp_dir() / "img").string(), 2, 2, 3); },
                        {p, "cannot decode"});
}

// ---- the real data sets (scripts/install_data.sh puts them in place; CI runs it first) ----
TEST(RealData, FashionMnist) {
  auto fm = load_fashion_mnist();
  EXPECT_EQ(fm.train->size(), 60000);
  EXPECT_EQ(fm.test->size(), 10000);
  EXPECT_EQ(fm.train->x().shape(), (Shape{60000, 1, 28, 28}));
  EXPECT_EQ(fm.class_names.size(), 10u);
  EXPECT_EQ(fm.class_names[9], "Ankle boot");
  std::vector<int64_t> counts(10, 0);
  for (int64_t v : fm.train->y().to_vector<int64_t>()) ++counts[v];
  for (int64_t c : counts) EXPECT_EQ(c, 6000);
  EXPECT_EQ(fm.train->y().at<int64_t>({0}), 9);  // the first training image is an ankle boot
}

TEST(RealData, MnistDigits) {
  auto mn = load_mnist();
  EXPECT_EQ(mn.train->size(), 8000);
  EXPECT_EQ(mn.test->size(), 2000);
  std::vector<int64_t> counts(10, 0);
  for (auto* ds : {mn.train.get(), mn.test.get()})
    for (int64_t v : ds->y().to_vector<int64_t>()) ++counts[v];
  EXPECT_EQ(counts, (std::vector<int64_t>{1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978}));
  auto again = load_mnist();
  EXPECT_EQ(again.test->y().to_vector<int64_t>(), mn.test->y().to_vector<int64_t>());
}

TEST(RealData, SpamAssassin) {
  auto sp = load_spam_assassin();
  EXPECT_EQ(sp.train.texts.size() + sp.test.texts.size(), 6046u);
  EXPECT_EQ(sp.test.texts.size(), 1209u);
  int64_t spam = 0;
  for (auto* t : {&sp.train, &sp.test})
    for (int64_t l : t->labels) spam += l;
  EXPECT_EQ(spam, 1896);  // spam-1 500 + spam-2 1396; ham 2500 + 1400 + 250 = 4150
  EXPECT_EQ(sp.class_names, (std::vector<std::string>{"ham", "spam"}));
  EXPECT_FALSE(strip_mail_headers(sp.train.texts[0]).empty());
}

TEST(DataDir, OverrideOrder) {
  set_data_dir("");
  ::setenv("EMBER_DATA_DIR", "/tmp/ember-env-dir", 1);
  EXPECT_EQ(data_dir(), "/tmp/ember-env-dir");
  set_data_dir("/tmp/ember-flag-dir");
  EXPECT_EQ(data_dir(), "/tmp/ember-flag-dir");
  set_data_dir("");
  ::unsetenv("EMBER_DATA_DIR");
  ::setenv("XDG_DATA_HOME", "/tmp/xdg", 1);
  EXPECT_EQ(data_dir(), "/tmp/xdg/ember");
  ::unsetenv("XDG_DATA_HOME");
  EXPECT_NE(data_dir().find("/.local/share/ember"), std::string::npos);
}

// Removes the generated files once all tests ran.
class CleanupEnv : public ::testing::Environment {
 public:
  void TearDown() override { fs::remove_all(tmp_dir()); }
};
static ::testing::Environment* const kCleanup = ::testing::AddGlobalTestEnvironment(new CleanupEnv);
