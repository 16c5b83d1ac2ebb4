// nn::Linear: y = x W^T + b over the last dimension (any leading dimensions), weight (out, in) like PyTorch,
// initialised like PyTorch (kaiming_uniform_ with a = sqrt(5) for the weight, U(-1/sqrt(in), 1/sqrt(in)) for
// the bias). Calls the fused ember::linear op.
//
//   auto fc = std::make_shared<ember::nn::Linear>(ember::nn::LinearOptions(784, 10).bias(false));
//   auto fc2 = std::make_shared<ember::nn::Linear>(10, 2);
//   auto y = fc2->forward(fc->forward(x));   // x (N, 784) -> (N, 2)
#pragma once

#include "ember/core/random.h"
#include "ember/nn/module.h"
#include "ember/ops/nn_ops.h"

namespace ember::nn {

class LinearOptions {
 public:
  LinearOptions(int64_t in_features, int64_t out_features) : in_(in_features), out_(out_features) {}
  LinearOptions& bias(bool on) {
    bias_ = on;
    return *this;
  }
  LinearOptions& dtype(DType dt) {
    dtype_ = dt;
    return *this;
  }
  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }
  bool bias() const { return bias_; }
  DType dtype() const { return dtype_; }

 private:
  int64_t in_, out_;
  bool bias_ = true;
  DType dtype_ = DType::Float32;
};

class Linear : public Module {
 public:
  // `gen` draws the initial weights (the global generator when null).
  explicit Linear(const LinearOptions& options, Generator* gen = nullptr);
  Linear(int64_t in_features, int64_t out_features, bool bias = true, Generator* gen = nullptr);

  Tensor forward(const Tensor& x) override;
  // relu(forward(x)), fused without gradient recording (Sequential uses it for a Linear followed by a ReLU).
  Tensor forward_relu(const Tensor& x);
  // Re-draws the weights with PyTorch's default initialisation.
  void reset_parameters(Generator* gen = nullptr);
  std::string extra_repr() const override;
  const LinearOptions& options() const { return options_; }

  Tensor weight;  // (out_features, in_features)
  Tensor bias;    // (out_features,), undefined without bias

 private:
  void check_input(const Tensor& x) const;
  LinearOptions options_;
  // Batch-1 inference: a transposed copy of `weight` (see LinearWeightCache), rebuilt when it changes.
  LinearWeightCache cache_;
};

}  // namespace ember::nn
