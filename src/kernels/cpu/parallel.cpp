#include "ember/kernels/parallel.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace ember {

namespace {
int initial_threads() {
  if (const char* s = std::getenv("EMBER_NUM_THREADS")) {
    int n = std::atoi(s);
    if (n > 0) {
      omp_set_num_threads(n);
      return n;
    }
  }
  return omp_get_max_threads();
}
int& thread_count() {
  static int n = initial_threads();
  return n;
}
}  // namespace

int num_threads() {
  return thread_count();
}

void set_num_threads(int n) {
  n = std::max(1, n);
  thread_count() = n;
  omp_set_num_threads(n);
}

namespace detail {
namespace {

thread_local int chunk_depth = 0;  // > 0 while this thread runs a split_run chunk

struct InChunk {
  InChunk() { ++chunk_depth; }
  ~InChunk() { --chunk_depth; }
};

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#else
  std::this_thread::yield();
#endif
}

// The helper of split_run. A task is published as one word, `state` = epoch << 32 | chunks << 16 | next chunk
// to claim; a chunk is claimed by a compare-exchange of that word, so a thread holding an older word can
// never claim from a newer task (nor check an old index against a new chunk count). The caller publishes a
// new task only after every chunk of the previous one is done, so the function and context read after a
// successful claim are those of the claimed task.
class SplitPool {
 public:
  static SplitPool& get() {
    static SplitPool* pool = new SplitPool();  // never destroyed: the detached helper may outlive exit()
    return *pool;
  }

  // False (nothing run) when another call holds the pool: concurrent callers, or a chunk calling back in.
  // The first exception a chunk throws is rethrown here after every chunk has finished (the others still
  // run: they may use the caller's stack).
  bool try_run(int64_t chunks, void* ctx, void (*fn)(void*, int64_t)) {
    if (busy_.exchange(true, std::memory_order_acquire)) return false;
    run(chunks, ctx, fn);
    std::exception_ptr error;
    std::swap(error, error_);
    busy_.store(false, std::memory_order_release);
    if (error) std::rethrow_exception(error);
    return true;
  }

 private:
  void run(int64_t chunks, void* ctx, void (*fn)(void*, int64_t)) {
    fn_.store(fn, std::memory_order_relaxed);
    ctx_.store(ctx, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    const uint64_t epoch = (state_.load(std::memory_order_relaxed) >> 32) + 1;
    state_.store(epoch << 32 | uint64_t(chunks) << 16, std::memory_order_seq_cst);
    if (sleeping_.load(std::memory_order_seq_cst)) {
      std::lock_guard<std::mutex> lock(mu_);
      cv_.notify_one();
    }
    work(epoch);
    // The helper is running a chunk: wait, giving the CPU away now and then in case it shares this one.
    for (int n = 1; done_.load(std::memory_order_acquire) < chunks; ++n) {
      cpu_relax();
      if (n % 1024 == 0) std::this_thread::yield();
    }
  }

  static constexpr auto kSpin = std::chrono::microseconds(100);

  SplitPool() {
    std::thread([this] { helper(); }).detach();
  }

  // Claims and runs chunks of the given epoch until none is left.
  void work(uint64_t epoch) {
    uint64_t s = state_.load(std::memory_order_acquire);
    for (;;) {
      if (s >> 32 != epoch) return;
      const int64_t i = int64_t(s & 0xffff), chunks = int64_t(s >> 16 & 0xffff);
      if (i >= chunks) return;
      if (!state_.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire))
        continue;
      try {
        InChunk in;
        fn_.load(std::memory_order_relaxed)(ctx_.load(std::memory_order_relaxed), i);
      } catch (...) {  // handed to the caller, which rethrows it once every chunk is done
        std::lock_guard<std::mutex> lock(error_mu_);
        if (!error_) error_ = std::current_exception();
      }
      done_.fetch_add(1, std::memory_order_release);
      s = state_.load(std::memory_order_acquire);
    }
  }

  void helper() {
    uint64_t seen = 0;
    for (;;) {
      // Spin for a new task, then sleep until one is published.
      auto start = std::chrono::steady_clock::now();
      uint64_t epoch = state_.load(std::memory_order_acquire) >> 32;
      for (int n = 0; epoch == seen; ++n) {
        cpu_relax();
        // Every ~2-5 µs: let any other runnable thread of this CPU (an OpenMP thread of oneDNN) go first, and
        // after kSpin without work, sleep.
        if ((n & 255) == 255) std::this_thread::yield();
        if ((n & 255) == 255 && std::chrono::steady_clock::now() - start > kSpin) {
          std::unique_lock<std::mutex> lock(mu_);
          sleeping_.store(true, std::memory_order_seq_cst);
          cv_.wait(lock, [&] { return state_.load(std::memory_order_seq_cst) >> 32 != seen; });
          sleeping_.store(false, std::memory_order_relaxed);
          start = std::chrono::steady_clock::now();
        }
        epoch = state_.load(std::memory_order_acquire) >> 32;
      }
      seen = epoch;
      work(epoch);
    }
  }

  std::atomic<uint64_t> state_{0};
  std::atomic<int64_t> done_{0};
  std::atomic<void (*)(void*, int64_t)> fn_{nullptr};
  std::atomic<void*> ctx_{nullptr};
  std::atomic<bool> sleeping_{false}, busy_{false};
  std::mutex mu_, error_mu_;
  std::condition_variable cv_;
  std::exception_ptr error_;
};

}  // namespace

void split_run(int64_t chunks, void* ctx, void (*fn)(void*, int64_t)) {
  if (chunks <= 0) return;
  if (chunks == 1 || chunks > 0xffff || num_threads() <= 1 || omp_in_parallel() ||
      !SplitPool::get().try_run(chunks, ctx, fn)) {
    InChunk in;
    for (int64_t i = 0; i < chunks; ++i) fn(ctx, i);
  }
}

void parallel_run(int64_t begin, int64_t end, void* ctx, void (*fn)(void*, int64_t, int64_t)) {
  const int nt = num_threads();
  const int64_t len = end - begin;
  // Two threads (this machine): the split pool, whose helper spins between the close-together parallel loops
  // of a training step instead of sleeping like a passive OpenMP thread (waking one costs 10-100 µs here),
  // and whose caller takes the helper's half itself when the helper is not there in time. The halves are the
  // same as OpenMP's static split, so the results are too.
  if (nt == 2 && !omp_in_parallel()) {
    ember::split_run(2, [&](int64_t c) {
      const int64_t lo = begin + len * c / 2, hi = begin + len * (c + 1) / 2;
      if (hi > lo) fn(ctx, lo, hi);
    });
    return;
  }
#pragma omp parallel num_threads(nt)
  {
    int t = omp_get_thread_num();
    int n = omp_get_num_threads();
    int64_t lo = begin + len * t / n;
    int64_t hi = begin + len * (t + 1) / n;
    if (hi > lo) fn(ctx, lo, hi);
  }
}

}  // namespace detail

bool in_parallel() {
  return omp_in_parallel() || detail::chunk_depth > 0;
}

}  // namespace ember
