// The backward engine: counts, for every node reachable from the root, how many edges point at it; then runs
// nodes whose count has dropped to zero (a topological order), summing gradients that arrive from several
// consumers before a node runs. Nodes are run once; their saved tensors are freed as they finish.
#include <atomic>
#include <cmath>
#include <cstring>
#include <unordered_map>

#include "ember/autograd/node.h"
#include "ember/core/dispatch.h"

namespace ember {

namespace {
thread_local bool g_grad_enabled = true;
std::atomic<bool> g_anomaly{false};
}  // namespace

bool GradMode::is_enabled() { return g_grad_enabled; }
void GradMode::set_enabled(bool on) { g_grad_enabled = on; }
bool AnomalyMode::is_enabled() { return g_anomaly.load(std::memory_order_relaxed); }
void AnomalyMode::set_enabled(bool on) { g_anomaly.store(on); }

void Tensor::backward(const Tensor& grad, bool retain_graph) const {
  autograd::run_backward(*this, grad, retain_graph);
}

namespace autograd {

namespace {

// a + b for same-shape floating tensors, into a fresh tensor (the inputs may be aliased elsewhere).
Tensor add_fresh(const Tensor& a, const Tensor& b) {
  Tensor x = contiguous_data(a), y = contiguous_data(b);
  Tensor out = empty(a.shape(), a.dtype());
  int64_t n = a.numel();
  dispatch_floating(a.dtype(), "gradient accumulation", [&](auto tag) {
    using T = decltype(tag);
    const T* px = x.data<T>();
    const T* py = y.data<T>();
    T* po = out.data<T>();
    for (int64_t i = 0; i < n; ++i) po[i] = px[i] + py[i];
  });
  return out;
}

// dst += src in place (dst contiguous, same shape and dtype).
void add_inplace(const Tensor& dst, const Tensor& src) {
  Tensor y = contiguous_data(src);
  int64_t n = dst.numel();
  dispatch_floating(dst.dtype(), "gradient accumulation", [&](auto tag) {
    using T = decltype(tag);
    T* pd = dst.data<T>();
    const T* py = y.data<T>();
    for (int64_t i = 0; i < n; ++i) pd[i] += py[i];
  });
  dst.bump_version();
}

bool has_nan(const Tensor& t) {
  if (!t.defined() || !is_floating(t.dtype())) return false;
  for (double v : t.to_double_vector())
    if (std::isnan(v)) return true;
  return false;
}

std::atomic<uint64_t> g_epoch{0};

void check_grad(const Node& n, const Tensor& g) {
  if (g.shape() != n.output_shape)
    throw AutogradError(detail::concat("backward: the gradient reaching '", n.name(), "' has shape ", g.shape(),
                                       " but its output has shape ", n.output_shape));
}

// capture: when non-null, gradients that reach the nodes listed as keys are stored there instead of being
// accumulated into leaves (torch.autograd.grad semantics), and AccumulateGrad nodes are not run.
void execute(const std::shared_ptr<Node>& root, const Tensor& root_grad, bool retain_graph,
             std::unordered_map<Node*, Tensor>* capture) {
  uint64_t epoch = ++g_epoch;
  // Pass 1: dependency counts over every node reachable from the root.
  std::vector<Node*> stack{root.get()};
  root->visit_epoch = epoch;
  root->dependencies = 0;
  root->pending_grad = Tensor();
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (auto& e : n->next_edges) {
      Node* c = e.fn.get();
      if (!c) continue;
      if (c->visit_epoch != epoch) {
        c->visit_epoch = epoch;
        c->dependencies = 0;
        c->pending_grad = Tensor();
        stack.push_back(c);
      }
      ++c->dependencies;
    }
  }
  // Pass 2: run nodes in dependency order.
  NoGradGuard no_grad;
  root->pending_grad = root_grad;
  // Shared pointers keep nodes alive while they are queued even if release_saved drops other references.
  std::vector<std::shared_ptr<Node>> ready{root};
  while (!ready.empty()) {
    std::shared_ptr<Node> node = std::move(ready.back());
    ready.pop_back();
    Tensor g = std::move(node->pending_grad);
    node->pending_grad = Tensor();
    std::vector<Tensor> grads;
    bool is_leaf_sink = dynamic_cast<AccumulateGrad*>(node.get()) != nullptr;
    if (capture) {
      auto it = capture->find(node.get());
      if (it != capture->end() && g.defined()) it->second = it->second.defined() ? add_fresh(it->second, g) : g;
    }
    if (g.defined() && !(capture && is_leaf_sink)) {
      if (node->released)
        throw AutogradError(detail::concat(
            "backward: the graph through '", node->name(),
            "' was already freed by an earlier backward(); call backward(grad, /*retain_graph=*/true) the first "
            "time if you need to run backward through the same graph twice"));
      check_grad(*node, g);
      grads = node->apply(g);
      if (AnomalyMode::is_enabled())
        for (auto& gi : grads)
          if (has_nan(gi))
            throw AutogradError(detail::concat("anomaly: the backward of '", node->name(), "' produced NaN"));
      if (!retain_graph) {
        node->release_saved();
        node->released = true;
      }
    }
    for (size_t i = 0; i < node->next_edges.size(); ++i) {
      const std::shared_ptr<Node>& child = node->next_edges[i].fn;
      if (!child) continue;
      if (i < grads.size() && grads[i].defined()) {
        Tensor& slot = child->pending_grad;
        slot = slot.defined() ? add_fresh(slot, grads[i]) : std::move(grads[i]);
      }
      if (--child->dependencies == 0) ready.push_back(child);
    }
    if (!retain_graph && !is_leaf_sink) node->next_edges.clear();
  }
}

}  // namespace

std::vector<Tensor> AccumulateGrad::apply(const Tensor& grad_output) {
  if (!leaf_->grad) {
    Tensor g = grad_output;
    // Keep a private copy when the gradient is shared (a user-supplied seed, a pass-through of another grad),
    // so that later in-place changes to .grad (clipping, accumulation) cannot reach anyone else.
    if (g.impl_ptr().use_count() > 2 || g.storage().use_count() > 1 || !g.is_contiguous() ||
        g.dtype() != leaf_->dtype)
      g = copy_as(g, leaf_->dtype);
    leaf_->grad = g.impl_ptr();
  } else {
    add_inplace(Tensor(leaf_->grad), grad_output);
  }
  return {};
}

SavedTensor::SavedTensor(const Tensor& t, bool is_output) : t_(is_output ? t.detach() : t) {
  if (t.defined()) version_ = t.storage()->version();
}

const Tensor& SavedTensor::get(const Node* owner) const {
  if (!t_.defined())
    throw AutogradError(detail::concat("backward: a tensor saved by '", owner ? owner->name() : "?",
                                       "' is gone: the graph was already freed by an earlier backward()"));
  if (t_.storage()->version() != version_)
    throw AutogradError(detail::concat("backward: a tensor needed for the gradient of '", owner ? owner->name() : "?",
                                       "' was modified in place after the op ran"));
  return t_;
}

bool any_requires_grad(std::initializer_list<const Tensor*> inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor* t : inputs)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}

bool any_requires_grad(const std::vector<Tensor>& inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

Edge gradient_edge(const Tensor& t) {
  if (!t.defined() || !t.requires_grad()) return {};
  TensorImpl* impl = t.impl();
  if (impl->grad_fn) return {impl->grad_fn};
  std::shared_ptr<Node> acc = impl->grad_accumulator.lock();
  if (!acc) {
    auto a = std::make_shared<AccumulateGrad>(t.impl_ptr());
    a->output_shape = t.shape();
    a->output_dtype = t.dtype();
    impl->grad_accumulator = a;
    acc = a;
  }
  return {acc};
}

namespace {
void finish_record(const std::shared_ptr<Node>& node, Tensor& out) {
  node->output_shape = out.shape();
  node->output_dtype = out.dtype();
  out.impl()->grad_fn = node;
  out.impl()->requires_grad = true;
  if (AnomalyMode::is_enabled() && has_nan(out))
    throw AutogradError(detail::concat("anomaly: the output of '", node->name(), "' contains NaN"));
}
}  // namespace

void record(const std::shared_ptr<Node>& node, std::initializer_list<const Tensor*> inputs, Tensor& out) {
  node->next_edges.reserve(inputs.size());
  for (const Tensor* t : inputs) node->next_edges.push_back(gradient_edge(*t));
  finish_record(node, out);
}

void record(const std::shared_ptr<Node>& node, const std::vector<Tensor>& inputs, Tensor& out) {
  node->next_edges.reserve(inputs.size());
  for (const Tensor& t : inputs) node->next_edges.push_back(gradient_edge(t));
  finish_record(node, out);
}

void run_backward(const Tensor& root, const Tensor& grad, bool retain_graph) {
  EMBER_CHECK(root.defined(), AutogradError, "backward: called on an undefined tensor");
  EMBER_CHECK(root.requires_grad(), AutogradError,
              "backward: the tensor does not require grad and has no grad_fn (did any input have "
              "requires_grad_() set, and was recording on?)");
  Tensor g = grad;
  if (!g.defined()) {
    EMBER_CHECK(root.numel() == 1, AutogradError, "backward: without an explicit gradient, the tensor must have "
                "exactly one element (a scalar loss); got shape ", root.shape());
    g = ones(root.shape(), root.dtype());
  } else {
    EMBER_CHECK(g.shape() == root.shape(), ShapeError, "backward: gradient of shape ", g.shape(),
                " given for a tensor of shape ", root.shape());
    if (g.dtype() != root.dtype()) g = copy_as(g, root.dtype());
  }
  Edge e = gradient_edge(root);
  execute(e.fn, g, retain_graph, nullptr);
}

std::vector<Tensor> grad(const Tensor& output, const std::vector<Tensor>& inputs, const Tensor& grad_output,
                         bool retain_graph) {
  EMBER_CHECK(output.defined() && output.requires_grad(), AutogradError,
              "grad: the output does not require grad");
  Tensor g = grad_output.defined() ? grad_output : ones(output.shape(), output.dtype());
  EMBER_CHECK(g.shape() == output.shape(), ShapeError, "grad: gradient of shape ", g.shape(),
              " given for an output of shape ", output.shape());
  std::unordered_map<Node*, Tensor> capture;
  std::vector<Node*> keys;
  for (const Tensor& t : inputs) {
    Edge e = gradient_edge(t);
    EMBER_CHECK(e.fn != nullptr, AutogradError, "grad: one of the inputs does not require grad");
    keys.push_back(e.fn.get());
    capture.emplace(e.fn.get(), Tensor());
  }
  execute(gradient_edge(output).fn, g, retain_graph, &capture);
  std::vector<Tensor> out;
  for (Node* k : keys) out.push_back(capture[k]);
  return out;
}

}  // namespace autograd
}  // namespace ember
