#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ember/core/random.h"
#include "ember/io/atomic_file.h"
#include "ember/io/safetensors.h"

using namespace ember;
namespace fs = std::filesystem;

namespace {
fs::path temp_dir() {
  fs::path d = fs::temp_directory_path() / ("ember_io_test_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}
std::string expect_io_error(const std::string& bytes) {
  try {
    io::parse_safetensors(bytes, "bad.safetensors");
  } catch (const IOError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected IOError";
  return "";
}
std::string with_header(const std::string& json_header, const std::string& data) {
  std::string out;
  uint64_t n = json_header.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  return out + json_header + data;
}
}  // namespace

TEST(Safetensors, RoundTripAllDtypes) {
  fs::path path = temp_dir() / "round.safetensors";
  Tensor a = randn({3, 5});
  Tensor strided = as_strided(a, {5, 3}, {1, 5}, 0);  // a transposed view: written contiguously
  Tensor d = randn({2}, nullptr, DType::Float64);
  Tensor i = from_vector(std::vector<int64_t>{7, -8, 9});
  Tensor m = copy_as(from_vector(std::vector<float>{1, 0, 1}), DType::Bool);
  Tensor s = scalar_tensor(4.5);
  io::save_safetensors(path.string(), {{"a", a}, {"t", strided}, {"d", d}, {"i", i}, {"m", m}, {"s", s}},
                       {{"epoch", "3"}});
  io::SafetensorsFile f = io::load_safetensors(path.string());
  ASSERT_EQ(f.tensors.size(), 6u);
  EXPECT_EQ(f.metadata.at("epoch"), "3");
  std::map<std::string, Tensor> got(f.tensors.begin(), f.tensors.end());
  EXPECT_EQ(got["a"].to_vector<float>(), a.to_vector<float>());
  EXPECT_EQ(got["t"].shape(), (Shape{5, 3}));
  EXPECT_EQ(got["t"].to_vector<float>(), strided.to_vector<float>());
  EXPECT_EQ(got["d"].dtype(), DType::Float64);
  EXPECT_EQ(got["d"].to_vector<double>(), d.to_vector<double>());
  EXPECT_EQ(got["i"].to_vector<int64_t>(), i.to_vector<int64_t>());
  EXPECT_EQ(got["m"].dtype(), DType::Bool);
  EXPECT_EQ(got["m"].to_vector<int>(), (std::vector<int>{1, 0, 1}));
  EXPECT_EQ(got["s"].dim(), 0);
  EXPECT_EQ(got["s"].item(), 4.5);
  // Header is 8-byte aligned so the data can be mapped in place by other readers.
  std::string bytes = io::read_file(path.string());
  uint64_t n = 0;
  for (int k = 0; k < 8; ++k) n |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[k])) << (8 * k);
  EXPECT_EQ((8 + n) % 8, 0u);
}

TEST(Safetensors, ReadsAFileWrittenByPyTorch) {
  std::string dir = std::string(EMBER_FIXTURE_DIR) + "/io/";
  io::SafetensorsFile f = io::load_safetensors(dir + "torch_written.safetensors");
  std::ifstream in(dir + "torch_written.json");
  nlohmann::json want = nlohmann::json::parse(in);
  ASSERT_EQ(f.tensors.size(), want.size());
  EXPECT_EQ(f.metadata.at("format"), "pt");
  for (auto& [name, t] : f.tensors) {
    ASSERT_TRUE(want.contains(name)) << name;
    EXPECT_EQ(t.shape().vec(), want[name]["shape"].get<std::vector<int64_t>>()) << name;
    std::vector<double> w = want[name]["data"].get<std::vector<double>>();
    std::vector<double> g = t.to_double_vector();
    ASSERT_EQ(g.size(), w.size()) << name;
    for (size_t k = 0; k < w.size(); ++k) EXPECT_NEAR(g[k], w[k], 1e-6 * std::abs(w[k])) << name << "[" << k << "]";
  }
}

TEST(Safetensors, CorruptFilesAreClearErrors) {
  EXPECT_NE(expect_io_error("abc").find("fewer than the 8-byte"), std::string::npos);
  EXPECT_NE(expect_io_error(with_header("{\"a\":1}", "").substr(0, 12)).find("truncated"), std::string::npos);
  EXPECT_NE(expect_io_error(with_header("{not json", "")).find("not valid JSON"), std::string::npos);
  EXPECT_NE(expect_io_error(with_header("[1,2]", "")).find("not a JSON object"), std::string::npos);
  EXPECT_NE(expect_io_error(with_header(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", "1234"))
                .find("truncated"),
            std::string::npos);
  EXPECT_NE(expect_io_error(with_header(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", "12345678"))
                .find("needs 12 bytes"),
            std::string::npos);
  EXPECT_NE(expect_io_error(with_header(R"({"w":{"dtype":"Q9","shape":[2],"data_offsets":[0,8]}})", "12345678"))
                .find("unsupported dtype"),
            std::string::npos);
  EXPECT_NE(expect_io_error(with_header(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", "12345678"))
                .find("negative"),
            std::string::npos);
  EXPECT_NE(expect_io_error(with_header(R"({"w":{"dtype":"F32","shape":[2]}})", "12345678")).find("lacks"),
            std::string::npos);
  EXPECT_NE(expect_io_error(with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                        R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                        "123456789012"))
                .find("overlap"),
            std::string::npos);
  // Every truncation of a valid file is an error, never a crash.
  std::string good = io::to_safetensors_bytes({{"w", randn({4, 4})}, {"b", randn({4})}});
  for (size_t cut = 0; cut < good.size(); cut += 7) {
    EXPECT_THROW(io::parse_safetensors(good.substr(0, cut), "cut"), IOError) << "cut at " << cut;
  }
  EXPECT_THROW(io::load_safetensors("/nonexistent/dir/x.safetensors"), IOError);
  EXPECT_THROW(io::save_safetensors("/tmp/x.safetensors", {{"a", randn({1})}, {"a", randn({1})}}), ValueError);
}

TEST(AtomicWrite, CrashMidWriteKeepsThePreviousFile) {
  fs::path path = temp_dir() / "ckpt.safetensors";
  io::save_safetensors(path.string(), {{"w", ones({3})}});
  std::string before = io::read_file(path.string());
  // A writer that fails half-way (as a crash or a full disk would) must leave the old file as it was.
  EXPECT_THROW(io::atomic_write(path.string(),
                                [&](std::FILE* f) {
                                  io::write_all(f, "partial", 7, path.string());
                                  throw IOError("simulated crash");
                                }),
               IOError);
  EXPECT_EQ(io::read_file(path.string()), before);
  for (auto& e : fs::directory_iterator(path.parent_path()))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << "temporary file left behind";
  io::save_safetensors(path.string(), {{"w", zeros({3})}});
  EXPECT_EQ(io::load_safetensors(path.string()).tensors[0].second.to_vector<float>(), (std::vector<float>{0, 0, 0}));
}
