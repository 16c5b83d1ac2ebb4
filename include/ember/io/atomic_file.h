// Crash-safe file writes: the data goes to a temporary file next to the target, is flushed and fsync'ed, then
// renamed over the target (and the directory fsync'ed). A crash at any point leaves either the old file or the
// new one, never a mix.
//
//   ember::io::atomic_write(path, [&](std::FILE* f) { std::fwrite(buf, 1, n, f); });
#pragma once

#include <cstdio>
#include <functional>
#include <string>

namespace ember::io {

// Calls write(f) on a temporary file and, if it returns without throwing and every write succeeded, replaces
// `path` with it. Throws IOError naming the path on any failure (the previous file is untouched).
void atomic_write(const std::string& path, const std::function<void(std::FILE*)>& write);

// Writes `bytes` to the temporary file and checks the result (throws IOError on a short write).
void write_all(std::FILE* f, const void* data, size_t bytes, const std::string& path);

// The whole content of a file; IOError naming the path if it cannot be read.
std::string read_file(const std::string& path);

}  // namespace ember::io
