// Batch normalisation modules with PyTorch's semantics and state_dict names: parameters "weight" (ones) and
// "bias" (zeros) when affine; buffers "running_mean" (zeros), "running_var" (ones) and "num_batches_tracked"
// (int64 scalar) when track_running_stats. Training normalises with the batch statistics and updates the
// running ones (r = (1 - momentum) * r + momentum * batch_stat, unbiased variance; momentum = nullopt gives
// the cumulative average); eval normalises with the running statistics. A thin module over ember::batch_norm.
//
//   auto bn = std::make_shared<ember::nn::BatchNorm2d>(ember::nn::BatchNormOptions(16).momentum(0.01));
//   auto y = bn->forward(x);   // x (N, 16, H, W); BatchNorm1d takes (N, C) or (N, C, L)
//   bn->eval();                // now uses running_mean / running_var
#pragma once

#include <optional>

#include "ember/nn/module.h"

namespace ember::nn {

class BatchNormOptions {
 public:
  explicit BatchNormOptions(int64_t num_features) : num_features_(num_features) {}
  BatchNormOptions& eps(double e) {
    eps_ = e;
    return *this;
  }
  // std::nullopt: cumulative moving average (PyTorch's momentum=None).
  BatchNormOptions& momentum(std::optional<double> m) {
    momentum_ = m;
    return *this;
  }
  BatchNormOptions& affine(bool on) {
    affine_ = on;
    return *this;
  }
  BatchNormOptions& track_running_stats(bool on) {
    track_running_stats_ = on;
    return *this;
  }
  BatchNormOptions& dtype(DType dt) {
    dtype_ = dt;
    return *this;
  }
  int64_t num_features() const { return num_features_; }
  double eps() const { return eps_; }
  std::optional<double> momentum() const { return momentum_; }
  bool affine() const { return affine_; }
  bool track_running_stats() const { return track_running_stats_; }
  DType dtype() const { return dtype_; }

 private:
  int64_t num_features_;
  double eps_ = 1e-5;
  std::optional<double> momentum_ = 0.1;
  bool affine_ = true;
  bool track_running_stats_ = true;
  DType dtype_ = DType::Float32;
};

// The shared implementation of BatchNorm1d and BatchNorm2d.
class BatchNormBase : public Module {
 public:
  BatchNormBase(const std::string& type_name, const BatchNormOptions& options);
  // Running statistics back to mean 0, variance 1, and num_batches_tracked to 0.
  void reset_running_stats();
  // reset_running_stats() plus weight = 1, bias = 0.
  void reset_parameters();
  std::string extra_repr() const override;
  const BatchNormOptions& options() const { return options_; }

  Tensor weight, bias;                                    // (C,), undefined unless affine
  Tensor running_mean, running_var, num_batches_tracked;  // undefined unless track_running_stats

 protected:
  // Normalises x of shape (N, C) or (N, C, H, W).
  Tensor normalize(const Tensor& x);

  BatchNormOptions options_;
};

// (N, C) or (N, C, L).
class BatchNorm1d : public BatchNormBase {
 public:
  explicit BatchNorm1d(const BatchNormOptions& options) : BatchNormBase("BatchNorm1d", options) {}
  explicit BatchNorm1d(int64_t num_features) : BatchNorm1d(BatchNormOptions(num_features)) {}
  Tensor forward(const Tensor& x) override;
};

// (N, C, H, W).
class BatchNorm2d : public BatchNormBase {
 public:
  explicit BatchNorm2d(const BatchNormOptions& options) : BatchNormBase("BatchNorm2d", options) {}
  explicit BatchNorm2d(int64_t num_features) : BatchNorm2d(BatchNormOptions(num_features)) {}
  Tensor forward(const Tensor& x) override;
};

}  // namespace ember::nn
