// Loss modules wrapping the fused loss ops of ember/ops/loss.h, PyTorch-style: construct with options, call
// forward(input, target). Class weights / pos_weight are registered as buffers "weight" / "pos_weight" like
// PyTorch's.
//
//   auto criterion = std::make_shared<ember::nn::CrossEntropyLoss>(
//       ember::nn::CrossEntropyOptions().label_smoothing(0.1));
//   ember::Tensor loss = criterion->forward(model->forward(x), labels);   // labels int64 (N,)
//   loss.backward();
#pragma once

#include "ember/nn/module.h"
#include "ember/ops/loss.h"

namespace ember::nn {

using ember::CrossEntropyOptions;
using ember::Reduction;

// Base of the loss modules: the two-tensor forward; the single-tensor forward throws ValueError.
class Loss : public Module {
 public:
  using Module::forward;
  explicit Loss(std::string type_name) : Module(std::move(type_name)) {}
  virtual Tensor forward(const Tensor& input, const Tensor& target) = 0;
  Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }
};

class MSELoss : public Loss {
 public:
  explicit MSELoss(Reduction reduction = Reduction::Mean) : Loss("MSELoss"), reduction_(reduction) {}
  Tensor forward(const Tensor& input, const Tensor& target) override;
  std::string extra_repr() const override;

 private:
  Reduction reduction_;
};

class CrossEntropyLoss : public Loss {
 public:
  explicit CrossEntropyLoss(const CrossEntropyOptions& options = {});
  // logits (N, C) or (N, C, d1, ...); target int64 class indices or class probabilities.
  Tensor forward(const Tensor& input, const Tensor& target) override;
  std::string extra_repr() const override;
  const CrossEntropyOptions& options() const { return options_; }

 private:
  CrossEntropyOptions options_;
};

class NLLLossOptions {
 public:
  NLLLossOptions& weight(const Tensor& w) {
    weight_ = w;
    return *this;
  }
  NLLLossOptions& ignore_index(int64_t i) {
    ignore_index_ = i;
    return *this;
  }
  NLLLossOptions& reduction(Reduction r) {
    reduction_ = r;
    return *this;
  }
  const Tensor& weight() const { return weight_; }
  int64_t ignore_index() const { return ignore_index_; }
  Reduction reduction() const { return reduction_; }

 private:
  Tensor weight_;
  int64_t ignore_index_ = -100;
  Reduction reduction_ = Reduction::Mean;
};

class NLLLoss : public Loss {
 public:
  explicit NLLLoss(const NLLLossOptions& options = {});
  // log_probs (N, C) or (N, C, d1, ...); target int64.
  Tensor forward(const Tensor& input, const Tensor& target) override;
  std::string extra_repr() const override;

 private:
  NLLLossOptions options_;
};

class BCELossOptions {
 public:
  // Broadcasts to the input.
  BCELossOptions& weight(const Tensor& w) {
    weight_ = w;
    return *this;
  }
  BCELossOptions& reduction(Reduction r) {
    reduction_ = r;
    return *this;
  }
  const Tensor& weight() const { return weight_; }
  Reduction reduction() const { return reduction_; }

 private:
  Tensor weight_;
  Reduction reduction_ = Reduction::Mean;
};

class BCELoss : public Loss {
 public:
  explicit BCELoss(const BCELossOptions& options = {});
  // probs in [0, 1], target of the same shape.
  Tensor forward(const Tensor& input, const Tensor& target) override;
  std::string extra_repr() const override;

 private:
  BCELossOptions options_;
};

class BCEWithLogitsLossOptions {
 public:
  BCEWithLogitsLossOptions& weight(const Tensor& w) {
    weight_ = w;
    return *this;
  }
  // Weight of the positive term, broadcast to the input (e.g. (C,) for multi-label).
  BCEWithLogitsLossOptions& pos_weight(const Tensor& w) {
    pos_weight_ = w;
    return *this;
  }
  BCEWithLogitsLossOptions& reduction(Reduction r) {
    reduction_ = r;
    return *this;
  }
  const Tensor& weight() const { return weight_; }
  const Tensor& pos_weight() const { return pos_weight_; }
  Reduction reduction() const { return reduction_; }

 private:
  Tensor weight_, pos_weight_;
  Reduction reduction_ = Reduction::Mean;
};

class BCEWithLogitsLoss : public Loss {
 public:
  explicit BCEWithLogitsLoss(const BCEWithLogitsLossOptions& options = {});
  Tensor forward(const Tensor& input, const Tensor& target) override;
  std::string extra_repr() const override;

 private:
  BCEWithLogitsLossOptions options_;
};

}  // namespace ember::nn
