// DataLoader: batches of a Dataset, optionally shuffled (seeded) and augmented, prepared ahead of time by
// background worker threads into a bounded queue of reused batch buffers. Iterate with range-for; every
// `for` over the loader is one epoch (the epoch number advances, so the shuffle changes; set_epoch pins it).
//
//   ember::data::DataLoader loader(train, ember::data::DataLoaderOptions().batch_size(128).shuffle(true)
//                                             .seed(42).num_workers(1).augment(ember::data::random_crop(2)));
//   for (const ember::data::Batch& b : loader) { model.train_step(b.x, b.y); }   // b.x: (128,1,28,28)
//
// The order of samples and the augmentation of each depend only on (seed, epoch, index), never on the number
// of worker threads. A Batch's tensors are reused for a later batch once no one else holds them: copy what
// you keep (holding on to a Batch is safe, the loader then allocates a fresh buffer).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "ember/data/dataset.h"
#include "ember/data/transforms.h"

namespace ember::data {

class DataLoaderOptions {
 public:
  DataLoaderOptions& batch_size(int64_t v) {
    batch_size_ = v;
    return *this;
  }
  DataLoaderOptions& shuffle(bool v) {
    shuffle_ = v;
    return *this;
  }
  DataLoaderOptions& seed(uint64_t v) {
    seed_ = v;
    return *this;
  }
  DataLoaderOptions& drop_last(bool v) {
    drop_last_ = v;
    return *this;
  }
  // 0: batches are made in the iterating thread on demand. n >= 1: n background threads.
  DataLoaderOptions& num_workers(int v) {
    num_workers_ = v;
    return *this;
  }
  // Batches made ahead of the consumer (queue bound, >= 1).
  DataLoaderOptions& prefetch(int v) {
    prefetch_ = v;
    return *this;
  }
  // Seeded augmentation applied to each sample's x (float32 images (C,H,W) or (H,W)).
  DataLoaderOptions& augment(AugmentationPtr v) {
    augment_ = std::move(v);
    return *this;
  }

  int64_t batch_size_ = 32;
  bool shuffle_ = false;
  uint64_t seed_ = 0;
  bool drop_last_ = false;
  int num_workers_ = 1;
  int prefetch_ = 2;
  AugmentationPtr augment_;
};

struct Batch {
  Tensor x;           // (n, *x_shape)
  Tensor y;           // (n, *y_shape)
  int64_t index = 0;  // batch number within the epoch
};

class EpochRun;  // the per-epoch machinery (workers, queue), in loader.cpp

class DataLoader {
 public:
  DataLoader(DatasetPtr dataset, DataLoaderOptions options = {});
  ~DataLoader();

  class Iterator {
   public:
    Iterator() = default;
    explicit Iterator(std::shared_ptr<EpochRun> run);
    const Batch& operator*() const { return batch_; }
    const Batch* operator->() const { return &batch_; }
    Iterator& operator++();
    bool operator==(const Iterator& o) const { return done() == o.done(); }
    bool operator!=(const Iterator& o) const { return !(*this == o); }
    bool done() const { return run_ == nullptr; }

   private:
    std::shared_ptr<EpochRun> run_;
    Batch batch_;
  };

  // Starts an epoch (stopping any unfinished one) and returns its first batch; the epoch counter advances.
  Iterator begin();
  Iterator end() { return Iterator(); }

  int64_t num_batches() const;
  int64_t dataset_size() const { return dataset_->size(); }
  const DataLoaderOptions& options() const { return options_; }
  // The epoch the next begin() runs.
  int64_t epoch() const { return epoch_; }
  void set_epoch(int64_t e) { epoch_ = e; }
  // The dataset indices in the order epoch `e` visits them (before drop_last).
  std::vector<int64_t> epoch_order(int64_t e) const;

 private:
  DatasetPtr dataset_;
  DataLoaderOptions options_;
  int64_t epoch_ = 0;
  std::shared_ptr<EpochRun> run_;
};

}  // namespace ember::data
