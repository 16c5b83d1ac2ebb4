// The caching allocator behind every tensor. Fresh pages cost about 11 us each on first touch on these
// machines, so Ember never gives memory back to the kernel during training: freed blocks go to per-size free
// lists and the next tensor of a similar size reuses them. Blocks are 64-byte aligned.
//
//   void* p = ember::CachingAllocator::instance().allocate(4096);
//   ember::CachingAllocator::instance().deallocate(p, 4096);
//   ember::CachingAllocator::instance().stats();   // bytes in use / cached, allocations served from cache
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace ember {

struct AllocatorStats {
  size_t bytes_in_use = 0;     // handed out and not yet returned
  size_t bytes_cached = 0;     // returned and kept for reuse
  size_t system_allocs = 0;    // blocks obtained from the system
  size_t cache_hits = 0;       // requests served from a free list
};

class CachingAllocator {
 public:
  static CachingAllocator& instance();

  // Returns at least `bytes` bytes, 64-byte aligned. Never returns nullptr (throws std::bad_alloc).
  void* allocate(size_t bytes);
  // Returns a block obtained from allocate(bytes) with the same `bytes`.
  void deallocate(void* p, size_t bytes);
  // Gives every cached block back to the system.
  void empty_cache();
  AllocatorStats stats() const;
  // Upper bound on cached bytes; beyond it freed blocks go back to the system (default 4 GiB).
  void set_cache_limit(size_t bytes);

  // The size class a request of `bytes` is rounded up to (exposed for tests).
  static size_t round_size(size_t bytes);

 private:
  CachingAllocator();
  ~CachingAllocator();
  static size_t class_index(size_t rounded);

  mutable std::mutex mu_;
  std::vector<std::vector<void*>> free_;  // indexed by class_index
  AllocatorStats stats_;
  size_t cache_limit_;
};

}  // namespace ember
