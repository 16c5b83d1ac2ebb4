// Storage: a reference-counted block of memory that one or more tensors view. Views (reshape, transpose,
// slices) share the Storage of their base; a version counter records in-place writes so that autograd can
// refuse to use a saved tensor that was modified after it was saved.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

namespace ember {

class Storage {
 public:
  // Memory from the caching allocator, uninitialised.
  static std::shared_ptr<Storage> allocate(size_t nbytes);
  // Wraps memory owned by someone else; `deleter` (may be empty) runs when the last tensor lets go.
  static std::shared_ptr<Storage> wrap(void* data, size_t nbytes, std::function<void(void*)> deleter);

  Storage(void* data, size_t nbytes, bool from_allocator, std::function<void(void*)> deleter);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  uint64_t version() const { return version_; }
  void bump_version() { ++version_; }

 private:
  void* data_;
  size_t nbytes_;
  bool from_allocator_;
  std::function<void(void*)> deleter_;
  uint64_t version_ = 0;
};

}  // namespace ember
