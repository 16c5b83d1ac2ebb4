// Graph nodes of reverse-mode differentiation. Every differentiable op that sees an input requiring a
// gradient creates one Node: it saves what its backward needs and points (Edges) at the nodes of its inputs.
// Writing an op's backward (see src/ops/*.cpp):
//
//   struct MulBackward : autograd::Node {
//     SavedTensor a, b;
//     const char* name() const override { return "mul"; }
//     std::vector<Tensor> apply(const Tensor& g) override { return {g * b.get(this), g * a.get(this)}; }
//     void release_saved() override { a.reset(); b.reset(); }
//   };
//   if (autograd::any_requires_grad({&a, &b})) {
//     auto node = std::make_shared<MulBackward>(); node->a = SavedTensor(a); node->b = SavedTensor(b);
//     autograd::record(node, {&a, &b}, out);
//   }
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <vector>

#include "ember/autograd/grad_mode.h"
#include "ember/core/tensor.h"

namespace ember::autograd {

class Node;

struct Edge {
  std::shared_ptr<Node> fn;  // null: that input needs no gradient
};

class Node {
 public:
  virtual ~Node() = default;
  // The op's name, used in error messages and anomaly reports.
  virtual const char* name() const = 0;
  // Given the gradient of this node's output, returns one gradient per input, in the order of next_edges
  // (an undefined Tensor where an input gets no gradient). Runs with gradient recording off.
  virtual std::vector<Tensor> apply(const Tensor& grad_output) = 0;
  // Frees what was saved for backward; called after the node ran unless the graph is retained.
  virtual void release_saved() {}

  std::vector<Edge> next_edges;
  Shape output_shape;  // the gradient flowing in must have this shape
  DType output_dtype = DType::Float32;

  // Engine bookkeeping.
  Tensor pending_grad;
  int64_t dependencies = 0;
  uint64_t visit_epoch = 0;
  bool released = false;
};

// The node at the end of a leaf's edges: adds the incoming gradient into the leaf's .grad.
class AccumulateGrad : public Node {
 public:
  explicit AccumulateGrad(std::shared_ptr<TensorImpl> leaf) : leaf_(std::move(leaf)) {}
  const char* name() const override { return "AccumulateGrad"; }
  std::vector<Tensor> apply(const Tensor& grad_output) override;

 private:
  std::shared_ptr<TensorImpl> leaf_;
};

// A tensor kept for backward. Saving an op's own output keeps only its data (no grad_fn), so that the graph
// holds no cycles; the storage version taken at save time detects in-place writes made afterwards.
class SavedTensor {
 public:
  SavedTensor() = default;
  explicit SavedTensor(const Tensor& t, bool is_output = false);
  // The saved tensor; throws AutogradError if the graph was freed or the data changed in place since.
  const Tensor& get(const Node* owner) const;
  void reset() { t_ = Tensor(); }
  bool defined() const { return t_.defined(); }

 private:
  Tensor t_;
  uint64_t version_ = 0;
};

// True when recording is on and any of the inputs requires a gradient.
bool any_requires_grad(std::initializer_list<const Tensor*> inputs);
bool any_requires_grad(const std::vector<Tensor>& inputs);
// Makes `node` the grad_fn of `out`, with one edge per input (null where the input needs no gradient).
void record(const std::shared_ptr<Node>& node, std::initializer_list<const Tensor*> inputs, Tensor& out);
void record(const std::shared_ptr<Node>& node, const std::vector<Tensor>& inputs, Tensor& out);
// The edge that gradients for `t` flow into: its grad_fn, its (cached) AccumulateGrad, or null.
Edge gradient_edge(const Tensor& t);

// Runs backward from `root` seeded with `grad` (see Tensor::backward).
void run_backward(const Tensor& root, const Tensor& grad, bool retain_graph);

// Gradients of `output` with respect to `inputs` (like torch.autograd.grad), without touching any .grad.
std::vector<Tensor> grad(const Tensor& output, const std::vector<Tensor>& inputs, const Tensor& grad_output = Tensor(),
                         bool retain_graph = false);

}  // namespace ember::autograd

namespace ember {
using autograd::SavedTensor;
}
