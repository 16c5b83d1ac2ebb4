#include "ember/data/readers.h"

#include <sys/mman.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <new>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "internal.h"

namespace fs = std::filesystem;

namespace ember::data {

// ---------------------------------------------------------------- data directory
namespace {
std::mutex g_dir_mu;
std::string g_dir_override;
}  // namespace

std::string data_dir() {
  {
    std::lock_guard<std::mutex> lock(g_dir_mu);
    if (!g_dir_override.empty()) return g_dir_override;
  }
  if (const char* e = std::getenv("EMBER_DATA_DIR"); e && *e) return e;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return std::string(x) + "/ember";
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : ".") + "/.local/share/ember";
}

void set_data_dir(const std::string& dir) {
  std::lock_guard<std::mutex> lock(g_dir_mu);
  g_dir_override = dir;
}

const char* install_data_command() {
  return "bash scripts/install_data.sh";
}

// ---------------------------------------------------------------- bulk memory and files
Tensor empty_bulk(const Shape& shape, DType dtype) {
  const size_t bytes = static_cast<size_t>(shape.numel()) * dtype_size(dtype);
  // Large one-off buffers (a whole data set) straight from mmap with transparent huge pages: the kernel then
  // faults in 2 MiB at a time instead of paying ~11 us for each 4 KiB page.
  if (bytes < (8u << 20)) return empty(shape, dtype);
  const size_t huge = 2u << 20, len = (bytes + huge - 1) / huge * huge;
  void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return empty(shape, dtype);
  madvise(p, len, MADV_HUGEPAGE);
  auto storage = Storage::wrap(p, len, [len](void* q) { munmap(q, len); });
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::move(storage);
  impl->shape = shape;
  impl->strides = Shape::filled(shape.size(), 1);
  for (int64_t i = static_cast<int64_t>(shape.size()) - 2; i >= 0; --i)
    impl->strides[i] = impl->strides[i + 1] * shape[i + 1];
  impl->dtype = dtype;
  return Tensor(impl);
}

namespace {
// A growable byte buffer straight from mmap with transparent huge pages (no zero-filling pass, 2 MiB faults):
// the decompressed IDX data of a whole data set lives here only until it is converted to floats.
class MappedBuffer {
 public:
  MappedBuffer() = default;
  MappedBuffer(const MappedBuffer&) = delete;
  MappedBuffer& operator=(const MappedBuffer&) = delete;
  ~MappedBuffer() {
    if (data_) munmap(data_, cap_);
  }
  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  uint8_t operator[](size_t i) const { return data_[i]; }
  void resize(size_t n) {
    if (n > cap_) {
      const size_t huge = 2u << 20, cap = (std::max(n, cap_ * 2) + huge - 1) / huge * huge;
      void* p = data_ ? mremap(data_, cap_, cap, MREMAP_MAYMOVE)
                      : mmap(nullptr, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) throw std::bad_alloc();
      madvise(p, cap, MADV_HUGEPAGE);
      data_ = static_cast<uint8_t*>(p);
      cap_ = cap;
    }
    size_ = n;
  }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0, cap_ = 0;
};

template <typename Buffer>
void read_file_into(const std::string& path, size_t expected, Buffer& out) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  EMBER_CHECK(f, IOError, "cannot open '", path, "': ", std::strerror(errno));
  unsigned char magic[2] = {0, 0};
  const size_t got = std::fread(magic, 1, 2, f);
  const bool gz = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  std::fseek(f, 0, SEEK_END);
  const long file_size = std::ftell(f);
  if (!gz) {
    out.resize(static_cast<size_t>(file_size));
    std::fseek(f, 0, SEEK_SET);
    const size_t n = out.empty() ? 0 : std::fread(out.data(), 1, out.size(), f);
    std::fclose(f);
    EMBER_CHECK(n == out.size(), IOError, "cannot read '", path, "': got ", n, " of ", out.size(), " bytes");
    return;
  }
  // The gzip trailer's last 4 bytes are the uncompressed size mod 2^32: a good first guess for the buffer.
  size_t guess = expected;
  if (guess == 0 && file_size >= 18) {
    unsigned char t[4];
    std::fseek(f, file_size - 4, SEEK_SET);
    if (std::fread(t, 1, 4, f) == 4)
      guess = t[0] | (t[1] << 8) | (t[2] << 16) | (static_cast<size_t>(t[3]) << 24);
    // A corrupt or truncated file's "trailer" is arbitrary: deflate cannot expand more than ~1032:1.
    guess = std::min(guess, static_cast<size_t>(file_size) * 1032);
  }
  std::fclose(f);
  gzFile g = gzopen(path.c_str(), "rb");
  EMBER_CHECK(g, IOError, "cannot open '", path, "' as gzip");
  gzbuffer(g, 1 << 20);
  out.resize(std::max<size_t>(guess, 1 << 16) + 1);
  size_t n = 0;
  for (;;) {
    if (n == out.size()) out.resize(out.size() * 2);
    const size_t want = std::min<size_t>(out.size() - n, 1u << 30);
    const int r = gzread(g, out.data() + n, static_cast<unsigned>(want));
    if (r < 0) {
      int err = 0;
      std::string msg = gzerror(g, &err);
      gzclose(g);
      throw IOError(detail::concat("corrupt gzip file '", path, "': ", msg));
    }
    if (r == 0) break;
    n += static_cast<size_t>(r);
  }
  int err = 0;
  std::string msg = gzerror(g, &err);
  gzclose(g);
  EMBER_CHECK(err == Z_OK || err == Z_STREAM_END, IOError, "corrupt or truncated gzip file '", path,
              "': ", msg);
  out.resize(n);
}
}  // namespace

std::vector<uint8_t> read_maybe_gzip(const std::string& path, size_t expected) {
  std::vector<uint8_t> out;
  read_file_into(path, expected, out);
  return out;
}

void bytes_to_unit_float(const uint8_t* in, float* out, int64_t n) {
  // Division (not a multiply by 1/255) so values equal PyTorch's ToTensor exactly; it vectorises. OpenMP
  // directly (the data layer sits on core only), static chunks.
  constexpr int64_t kChunk = 1 << 16;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static) if (n >= (1 << 21))
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t lo = c * kChunk, hi = std::min(n, lo + kChunk);
    for (int64_t i = lo; i < hi; ++i) out[i] = static_cast<float>(in[i]) / 255.0f;
  }
}

// ---------------------------------------------------------------- IDX
namespace {
// Validates an IDX buffer (magic, type, rank, exact data size); returns the dims and the header length.
template <typename Buffer>
std::vector<int64_t> parse_idx_header(const Buffer& buf, const std::string& path, size_t* header) {
  EMBER_CHECK(buf.size() >= 4, IOError, "IDX file '", path, "' is too short for a header (", buf.size(),
              " bytes)");
  EMBER_CHECK(buf[0] == 0 && buf[1] == 0, IOError, "IDX file '", path,
              "' has a wrong magic number (first bytes ", int(buf[0]), " ", int(buf[1]), ", expected 0 0)");
  EMBER_CHECK(buf[2] == 0x08, IOError, "IDX file '", path, "' has element type ", int(buf[2]),
              " in its magic number; only unsigned bytes (8) are supported");
  const int nd = buf[3];
  EMBER_CHECK(nd >= 1 && nd <= 8, IOError, "IDX file '", path, "' declares ", nd, " dimensions");
  *header = 4 + 4 * static_cast<size_t>(nd);
  EMBER_CHECK(buf.size() >= *header, IOError, "IDX file '", path, "' is shorter than its header (",
              buf.size(), " bytes, header needs ", *header, ")");
  std::vector<int64_t> dims;
  size_t count = 1;
  for (int d = 0; d < nd; ++d) {
    const uint8_t* p = buf.data() + 4 + 4 * d;
    const int64_t v = (int64_t(p[0]) << 24) | (int64_t(p[1]) << 16) | (int64_t(p[2]) << 8) | int64_t(p[3]);
    dims.push_back(v);
    count *= static_cast<size_t>(v);
  }
  const size_t have = buf.size() - *header;
  EMBER_CHECK(have >= count, IOError, "IDX file '", path, "' is shorter than its header says: ", count,
              " bytes of data declared, ", have, " present");
  EMBER_CHECK(have == count, IOError, "IDX file '", path, "' has ", have - count, " bytes after the ", count,
              " its header declares");
  return dims;
}
}  // namespace

IdxArray read_idx(const std::string& path) {
  std::vector<uint8_t> buf = read_maybe_gzip(path);
  size_t header = 0;
  IdxArray a;
  a.dims = parse_idx_header(buf, path, &header);
  buf.erase(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(header));
  a.bytes = std::move(buf);
  return a;
}

Tensor read_idx_images(const std::string& path) {
  MappedBuffer buf;
  read_file_into(path, 0, buf);
  size_t header = 0;
  std::vector<int64_t> d = parse_idx_header(buf, path, &header);
  EMBER_CHECK(d.size() == 3, IOError, "IDX image file '", path, "' has ", d.size(),
              " dimensions, expected 3 (N, H, W)");
  Tensor t = empty_bulk({d[0], 1, d[1], d[2]}, DType::Float32);
  bytes_to_unit_float(buf.data() + header, t.data<float>(), t.numel());
  return t;
}

Tensor read_idx_labels(const std::string& path) {
  IdxArray a = read_idx(path);
  EMBER_CHECK(a.dims.size() == 1, IOError, "IDX label file '", path, "' has ", a.dims.size(),
              " dimensions, expected 1 (N)");
  Tensor t = empty({a.dims[0]}, DType::Int64);
  int64_t* p = t.data<int64_t>();
  for (int64_t i = 0; i < a.dims[0]; ++i) p[i] = a.bytes[i];
  return t;
}

}  // namespace ember::data
