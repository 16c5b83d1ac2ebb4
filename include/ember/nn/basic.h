// Small layers without weights: Identity, Flatten, Dropout, and Functional (a module wrapping a function).
//
//   auto flat = std::make_shared<ember::nn::Flatten>();        // (N, C, H, W) -> (N, C*H*W)
//   auto drop = std::make_shared<ember::nn::Dropout>(0.5);    // identity after eval()
//   auto sq = std::make_shared<ember::nn::Functional>([](const ember::Tensor& x) { return x * x; },
//   "Square");
#pragma once

#include <functional>

#include "ember/core/random.h"
#include "ember/nn/module.h"

namespace ember::nn {

class Identity : public Module {
 public:
  Identity() : Module("Identity") {}
  Tensor forward(const Tensor& x) override { return x; }
};

class FlattenOptions {
 public:
  FlattenOptions() = default;
  FlattenOptions& start_dim(int64_t d) {
    start_ = d;
    return *this;
  }
  FlattenOptions& end_dim(int64_t d) {
    end_ = d;
    return *this;
  }
  int64_t start_dim() const { return start_; }
  int64_t end_dim() const { return end_; }

 private:
  int64_t start_ = 1, end_ = -1;
};

// Flattens dimensions start_dim..end_dim into one (default 1..-1: keep the batch dimension).
class Flatten : public Module {
 public:
  explicit Flatten(int64_t start_dim = 1, int64_t end_dim = -1);
  explicit Flatten(const FlattenOptions& options) : Flatten(options.start_dim(), options.end_dim()) {}
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;

 private:
  int64_t start_, end_;
};

class DropoutOptions {
 public:
  DropoutOptions(double p = 0.5) : p_(p) {}  // NOLINT: implicit from the probability, like PyTorch
  DropoutOptions& p(double v) {
    p_ = v;
    return *this;
  }
  double p() const { return p_; }

 private:
  double p_;
};

// Inverted dropout while training; the identity in eval mode. Masks come from `gen` (global when null).
class Dropout : public Module {
 public:
  explicit Dropout(const DropoutOptions& options = DropoutOptions(), Generator* gen = nullptr);
  explicit Dropout(double p, Generator* gen = nullptr) : Dropout(DropoutOptions(p), gen) {}
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  double p() const { return p_; }

 private:
  double p_;
  Generator* gen_;
};

// Wraps any Tensor -> Tensor function (a lambda, a free op) as a module, e.g. inside a Sequential.
class Functional : public Module {
 public:
  using Fn = std::function<Tensor(const Tensor&)>;
  explicit Functional(Fn fn, std::string name = "Functional");
  Tensor forward(const Tensor& x) override { return fn_(x); }

 private:
  Fn fn_;
};

}  // namespace ember::nn
