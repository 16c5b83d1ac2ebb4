#include "ember/data/loader.h"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

namespace ember::data {

namespace {
Shape with_batch(int64_t n, const Shape& s) {
  Shape out{n};
  for (int64_t d : s) out.push_back(d);
  return out;
}
// The first n rows of a batch buffer (a view; the buffer itself when n is its full size).
Tensor rows(const Tensor& t, int64_t n) {
  if (n == t.size(0)) return t;
  Shape s = t.shape();
  s[0] = n;
  return as_strided(t, s, t.strides(), t.offset());
}
// A buffer can be written again only if nobody outside the loader still holds it or a view of it.
bool reusable(const Tensor& t) {
  return t.defined() && t.impl_ptr().use_count() == 1 && t.storage().use_count() == 1;
}
}  // namespace

// One epoch: a fixed visiting order, `slots` batch buffers used round-robin (batch b lives in slot b % S),
// and worker threads that claim batches in increasing order. Batch b may be written once batch b - S has been
// released by the consumer, so at most S - 1 = prefetch batches are made ahead and memory stays bounded.
struct Slot {
  Tensor x_buf, y_buf;  // full-size buffers, kept from epoch to epoch
  Tensor x, y;          // the rows of the current batch
};

class EpochRun {
 public:
  EpochRun(DatasetPtr ds, const DataLoaderOptions& opt, int64_t epoch, std::vector<int64_t> order,
           std::vector<Slot> recycled)
      : ds_(std::move(ds)), opt_(opt), epoch_(epoch), order_(std::move(order)), slots_(std::move(recycled)) {
    const int64_t n = static_cast<int64_t>(order_.size()), bs = opt_.batch_size_;
    num_batches_ = opt_.drop_last_ ? n / bs : (n + bs - 1) / bs;
    if (num_batches_ > 0) {
      Example e = ds_->get(order_[0]);
      x_shape_ = with_batch(bs, e.x.shape());
      y_shape_ = with_batch(bs, e.y.shape());
      x_dtype_ = e.x.dtype();
      y_dtype_ = e.y.dtype();
      if (opt_.augment_) {
        EMBER_CHECK(x_dtype_ == DType::Float32 && (e.x.dim() == 2 || e.x.dim() == 3), ShapeError,
                    "DataLoader: augmentation needs float32 images (C,H,W) or (H,W), got x ",
                    e.x.shape().to_string(), " ", dtype_name(x_dtype_));
      }
    }
    slots_.resize(static_cast<size_t>(std::max(opt_.prefetch_, 1) + 1));
    ready_.assign(slots_.size(), -1);
    const int workers = std::min<int64_t>(opt_.num_workers_, num_batches_);
    for (int w = 0; w < workers; ++w) threads_.emplace_back([this] { work(); });
  }
  ~EpochRun() { stop(); }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  // The batch buffers, for the next epoch (call after stop()).
  std::vector<Slot> take_slots() {
    for (auto& sl : slots_) sl.x = sl.y = Tensor();
    return std::move(slots_);
  }

  // Fills `out` with the next batch; false at the end of the epoch.
  bool next(Batch& out) {
    const int64_t b = released_;  // batches 0..b-1 are released: the consumer dropped them
    if (b >= num_batches_) return false;
    if (threads_.empty()) {
      EMBER_CHECK(!stop_, ValueError, "DataLoader: this epoch was stopped (a new one began)");
      produce(b);
    } else {
      std::unique_lock<std::mutex> lock(mu_);
      released_shared_ = b;  // batch b-1 was dropped by the caller; its slot may be written again
      cv_.notify_all();
      cv_.wait(lock, [&] { return ready_[slot(b)] == b || error_ || stop_; });
      if (error_) std::rethrow_exception(error_);
      EMBER_CHECK(!stop_, ValueError, "DataLoader: this epoch was stopped (a new one began)");
    }
    Slot& s = slots_[slot(b)];
    out.x = s.x;
    out.y = s.y;
    out.index = b;
    released_ = b + 1;
    return true;
  }

 private:
  size_t slot(int64_t b) const { return static_cast<size_t>(b % static_cast<int64_t>(slots_.size())); }

  void work() {
    try {
      for (;;) {
        int64_t b;
        {
          std::unique_lock<std::mutex> lock(mu_);
          if (stop_ || next_claim_ >= num_batches_) return;
          b = next_claim_++;
          const int64_t S = static_cast<int64_t>(slots_.size());
          cv_.wait(lock, [&] { return stop_ || b - S < released_shared_; });
          if (stop_) return;
        }
        produce(b);
        {
          std::lock_guard<std::mutex> lock(mu_);
          ready_[slot(b)] = b;
        }
        cv_.notify_all();
      }
    } catch (...) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (!error_) error_ = std::current_exception();
      }
      cv_.notify_all();
    }
  }

  void produce(int64_t b) {
    Slot& s = slots_[slot(b)];
    // Drop our views first so that the reuse check sees only outside holders.
    s.x = Tensor();
    s.y = Tensor();
    if (!reusable(s.x_buf)) s.x_buf = empty(x_shape_, x_dtype_);
    if (!reusable(s.y_buf)) s.y_buf = empty(y_shape_, y_dtype_);
    const int64_t bs = opt_.batch_size_, lo = b * bs;
    const int64_t n = std::min<int64_t>(bs, static_cast<int64_t>(order_.size()) - lo);
    Tensor x = rows(s.x_buf, n), y = rows(s.y_buf, n);
    ds_->get_batch(order_.data() + lo, n, x, y);
    if (opt_.augment_) {
      const int64_t per = x_shape_.numel() / bs;
      const int64_t c = x_shape_.size() == 4 ? x_shape_[1] : 1, h = x_shape_[x_shape_.size() - 2],
                    w = x_shape_[x_shape_.size() - 1];
      thread_local std::vector<float> scratch;
      if (static_cast<int64_t>(scratch.size()) < per) scratch.resize(static_cast<size_t>(per));
      float* px = x.data<float>();
      for (int64_t k = 0; k < n; ++k) {
        Generator g(sample_seed(opt_.seed_, epoch_, order_[lo + k]));
        opt_.augment_->apply(px + k * per, c, h, w, g, scratch.data());
      }
    }
    x.bump_version();
    s.x = x;
    s.y = y;
  }

  DatasetPtr ds_;
  DataLoaderOptions opt_;
  int64_t epoch_;
  std::vector<int64_t> order_;
  int64_t num_batches_ = 0;
  Shape x_shape_, y_shape_;
  DType x_dtype_ = DType::Float32, y_dtype_ = DType::Float32;
  std::vector<Slot> slots_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<int64_t> ready_;    // ready_[slot] = the batch number it holds, once made
  int64_t next_claim_ = 0;        // next batch a worker takes
  int64_t released_shared_ = -1;  // the batch the consumer holds; all before it are released
  int64_t released_ = 0;          // consumer-side: the next batch to hand out
  bool stop_ = false;
  std::exception_ptr error_;
  std::vector<std::thread> threads_;
};

DataLoader::DataLoader(DatasetPtr dataset, DataLoaderOptions options)
    : dataset_(std::move(dataset)), options_(std::move(options)) {
  EMBER_CHECK(dataset_, ValueError, "DataLoader: dataset is null");
  EMBER_CHECK(options_.batch_size_ >= 1, ValueError, "DataLoader: batch_size must be >= 1, got ",
              options_.batch_size_);
  EMBER_CHECK(options_.num_workers_ >= 0, ValueError, "DataLoader: num_workers must be >= 0, got ",
              options_.num_workers_);
  EMBER_CHECK(options_.prefetch_ >= 1, ValueError, "DataLoader: prefetch must be >= 1, got ",
              options_.prefetch_);
}

DataLoader::~DataLoader() {
  if (run_) run_->stop();
}

int64_t DataLoader::num_batches() const {
  const int64_t n = dataset_->size(), bs = options_.batch_size_;
  return options_.drop_last_ ? n / bs : (n + bs - 1) / bs;
}

std::vector<int64_t> DataLoader::epoch_order(int64_t e) const {
  const int64_t n = dataset_->size();
  if (options_.shuffle_) return seeded_permutation(n, sample_seed(options_.seed_, e, -1));
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  return order;
}

DataLoader::Iterator DataLoader::begin() {
  std::vector<Slot> slots;
  if (run_) {
    run_->stop();
    slots = run_->take_slots();  // reuse last epoch's batch buffers
  }
  const int64_t e = epoch_++;
  run_ = std::make_shared<EpochRun>(dataset_, options_, e, epoch_order(e), std::move(slots));
  return Iterator(run_);
}

DataLoader::Iterator::Iterator(std::shared_ptr<EpochRun> run) : run_(std::move(run)) {
  if (!run_->next(batch_)) run_.reset();
}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  batch_ = Batch();  // release our hold on the buffers before the next batch is made
  if (!run_->next(batch_)) run_.reset();
  return *this;
}

}  // namespace ember::data
