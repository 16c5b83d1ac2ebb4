// Datasets: anything with a size() and a get(i) that returns one Example {x, y}. Wrappers compose them:
// transforms, subsets, seeded train/validation splits and concatenation. TensorDataset holds all examples in
// two tensors and gathers a batch with one memcpy per sample (the DataLoader's fast path).
//
//   auto ds = std::make_shared<ember::data::TensorDataset>(images, labels);   // (N,1,28,28), (N)
//   auto [train, val] = ember::data::train_val_split(ds, 0.1, /*seed=*/42);
//   ember::data::Example e = train->get(0);   // e.x: (1,28,28), e.y: scalar int64
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "ember/core/tensor.h"

namespace ember::data {

// One sample: input x and target y (y may be a 0-d tensor, e.g. a class index).
struct Example {
  Tensor x;
  Tensor y;
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  // The i-th example, 0 <= i < size(); throws IndexError otherwise. Must be safe to call from several
  // threads.
  virtual Example get(int64_t i) const = 0;
  // Writes examples indices[0..n) into rows of x_out (n, *x_shape) and y_out (n, *y_shape), which have the
  // dtypes and shapes of get(0). The default calls get() per index; in-memory datasets override it.
  virtual void get_batch(const int64_t* indices, int64_t n, const Tensor& x_out, const Tensor& y_out) const;
};

using DatasetPtr = std::shared_ptr<const Dataset>;

// All examples in memory: x (N, ...) and y (N, ...), any dtype, same N. get(i) returns views (no copy).
class TensorDataset : public Dataset {
 public:
  TensorDataset(Tensor x, Tensor y);
  int64_t size() const override { return n_; }
  Example get(int64_t i) const override;
  void get_batch(const int64_t* indices, int64_t n, const Tensor& x_out, const Tensor& y_out) const override;
  const Tensor& x() const { return x_; }
  const Tensor& y() const { return y_; }

 private:
  Tensor x_, y_;  // contiguous
  int64_t n_;
};

// Applies fn to every example as it is read (deterministic transforms; seeded augmentation belongs in the
// DataLoader, see transforms.h).
class TransformDataset : public Dataset {
 public:
  TransformDataset(DatasetPtr base, std::function<Example(Example)> fn);
  int64_t size() const override { return base_->size(); }
  Example get(int64_t i) const override;

 private:
  DatasetPtr base_;
  std::function<Example(Example)> fn_;
};

// The examples of `base` at `indices` (in that order).
class Subset : public Dataset {
 public:
  Subset(DatasetPtr base, std::vector<int64_t> indices);
  int64_t size() const override { return static_cast<int64_t>(indices_.size()); }
  Example get(int64_t i) const override;
  void get_batch(const int64_t* indices, int64_t n, const Tensor& x_out, const Tensor& y_out) const override;
  const std::vector<int64_t>& indices() const { return indices_; }

 private:
  DatasetPtr base_;
  std::vector<int64_t> indices_;
};

// The examples of each part, one after the other. Parts must agree on x/y shapes and dtypes.
class ConcatDataset : public Dataset {
 public:
  explicit ConcatDataset(std::vector<DatasetPtr> parts);
  int64_t size() const override { return offsets_.back(); }
  Example get(int64_t i) const override;

 private:
  std::vector<DatasetPtr> parts_;
  std::vector<int64_t> offsets_;  // offsets_[k] = first index of part k; back() = total
};

// A permutation of 0..n-1 from `seed` (the same on every machine and run).
std::vector<int64_t> seeded_permutation(int64_t n, uint64_t seed);
// Splits base into (train, validation) with round(val_fraction * size) validation examples, chosen by a
// seeded permutation; each part lists its indices in ascending order (so reading stays local).
std::pair<std::shared_ptr<Subset>, std::shared_ptr<Subset>> train_val_split(DatasetPtr base,
                                                                            double val_fraction,
                                                                            uint64_t seed);

// Convenience: shared_ptr factories.
inline std::shared_ptr<TensorDataset> tensor_dataset(Tensor x, Tensor y) {
  return std::make_shared<TensorDataset>(std::move(x), std::move(y));
}

}  // namespace ember::data
