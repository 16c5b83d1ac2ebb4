#include "ember/core/allocator.h"

#include <malloc.h>

#include <bit>
#include <cstdlib>
#include <new>

namespace ember {

namespace {
// glibc hands large blocks to mmap and trims the heap top on free; either gives pages back to the kernel and
// the next step pays the first-touch fault again. Keep everything in the heap and never trim. This runs once,
// before the first tensor is made, and also benefits the libraries Ember calls (oneDNN's scratch buffers).
struct MallocTuning {
  MallocTuning() {
    mallopt(M_MMAP_THRESHOLD, 512 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, -1);  // not accepted by every glibc; the line above is the fallback
  }
};
}  // namespace

// Size classes: multiples of 64 bytes up to 1 KiB, then four classes per power of two (at most 25% waste).
size_t CachingAllocator::round_size(size_t bytes) {
  if (bytes == 0) bytes = 1;
  if (bytes <= 1024) return (bytes + 63) & ~size_t(63);
  size_t p = std::bit_floor(bytes - 1);  // highest power of two below bytes
  size_t step = p / 4;
  return (bytes + step - 1) / step * step;
}

size_t CachingAllocator::class_index(size_t rounded) {
  if (rounded <= 1024) return rounded / 64 - 1;  // 0..15
  size_t p = std::bit_floor(rounded - 1);
  size_t step = p / 4;
  size_t k = (rounded - p) / step;  // 1..4
  size_t log = std::bit_width(p) - 1;  // >= 10
  return 16 + (log - 10) * 4 + (k - 1);
}

CachingAllocator::CachingAllocator() : free_(16 + 54 * 4), cache_limit_(size_t(4) << 30) {
  static MallocTuning tuning;
}

CachingAllocator::~CachingAllocator() { empty_cache(); }

CachingAllocator& CachingAllocator::instance() {
  // Leaked on purpose: tensors held by static objects may be freed after main() returns.
  static CachingAllocator* a = new CachingAllocator();
  return *a;
}

void* CachingAllocator::allocate(size_t bytes) {
  size_t rounded = round_size(bytes);
  size_t idx = class_index(rounded);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.bytes_in_use += rounded;
    if (idx < free_.size() && !free_[idx].empty()) {
      void* p = free_[idx].back();
      free_[idx].pop_back();
      stats_.bytes_cached -= rounded;
      ++stats_.cache_hits;
      return p;
    }
    ++stats_.system_allocs;
  }
  void* p = std::aligned_alloc(64, rounded);
  if (!p) {
    empty_cache();
    p = std::aligned_alloc(64, rounded);
    if (!p) {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.bytes_in_use -= rounded;
      throw std::bad_alloc();
    }
  }
  return p;
}

void CachingAllocator::deallocate(void* p, size_t bytes) {
  if (!p) return;
  size_t rounded = round_size(bytes);
  size_t idx = class_index(rounded);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.bytes_in_use -= rounded;
    if (idx < free_.size() && stats_.bytes_cached + rounded <= cache_limit_) {
      free_[idx].push_back(p);
      stats_.bytes_cached += rounded;
      return;
    }
  }
  std::free(p);
}

void CachingAllocator::empty_cache() {
  std::vector<std::vector<void*>> blocks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    blocks.swap(free_);
    free_.resize(blocks.size());
    stats_.bytes_cached = 0;
  }
  for (auto& list : blocks)
    for (void* p : list) std::free(p);
}

AllocatorStats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void CachingAllocator::set_cache_limit(size_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  cache_limit_ = bytes;
}

}  // namespace ember
