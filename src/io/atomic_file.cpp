#include "ember/io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "ember/core/error.h"

namespace ember::io {

namespace {
std::string errno_text() { return std::strerror(errno); }

void fsync_dir(const std::filesystem::path& dir) {
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}
}  // namespace

void write_all(std::FILE* f, const void* data, size_t bytes, const std::string& path) {
  if (bytes && std::fwrite(data, 1, bytes, f) != bytes)
    throw IOError(detail::concat("write ", path, ": ", errno_text()));
}

void atomic_write(const std::string& path, const std::function<void(std::FILE*)>& write) {
  namespace fs = std::filesystem;
  fs::path target(path);
  fs::path dir = target.parent_path();
  if (!dir.empty() && !fs::exists(dir)) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw IOError(detail::concat("cannot create directory ", dir.string(), ": ", ec.message()));
  }
  std::random_device rd;
  fs::path tmp = target;
  tmp += detail::concat(".tmp-", ::getpid(), "-", rd());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw IOError(detail::concat("cannot write ", path, ": ", errno_text()));
  try {
    write(f);
    if (std::fflush(f) != 0) throw IOError(detail::concat("write ", path, ": ", errno_text()));
    if (::fsync(::fileno(f)) != 0) throw IOError(detail::concat("fsync ", path, ": ", errno_text()));
  } catch (...) {
    std::fclose(f);
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
  if (std::fclose(f) != 0) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw IOError(detail::concat("close ", path, ": ", errno_text()));
  }
  if (std::rename(tmp.c_str(), target.c_str()) != 0) {
    std::string why = errno_text();
    std::error_code ec;
    fs::remove(tmp, ec);
    throw IOError(detail::concat("cannot replace ", path, ": ", why));
  }
  fsync_dir(dir);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IOError(detail::concat("cannot open ", path, ": ", errno_text()));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw IOError(detail::concat("cannot read ", path));
  return ss.str();
}

}  // namespace ember::io
