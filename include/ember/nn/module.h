// nn::Module: the base class of every layer and model, PyTorch-style. A module is one class held by
// std::shared_ptr; it registers its parameters, buffers and submodules by name, which gives dotted names
// ("features.0.weight") for named_parameters(), state_dict() and error messages.
//
//   struct Net : ember::nn::Module {
//     std::shared_ptr<ember::nn::Linear> fc1, fc2;
//     Net() : Module("Net") {
//       fc1 = register_module("fc1", std::make_shared<ember::nn::Linear>(784, 128));
//       fc2 = register_module("fc2", std::make_shared<ember::nn::Linear>(128, 10));
//     }
//     ember::Tensor forward(const ember::Tensor& x) override { return
//     fc2->forward(ember::relu(fc1->forward(x))); }
//   };
//   auto net = std::make_shared<Net>();
//   net->named_parameters();   // [("fc1.weight", ...), ("fc1.bias", ...), ...]
//   net->load_state_dict(other->state_dict());
//   std::cout << *net;         // Net(\n  (fc1): Linear(in_features=784, out_features=128, bias=true) ...
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ember/core/error.h"
#include "ember/core/tensor.h"

namespace ember::nn {

// A parameter is a Tensor handle marked requires_grad and registered on a module. Loading a state dict or
// an optimizer step writes into its data in place, so every copy of the handle sees the new values.
using Parameter = Tensor;

// Name -> Tensor in insertion order (the order PyTorch's state_dict uses), with lookup by name.
class StateDict {
 public:
  using Entry = std::pair<std::string, Tensor>;
  // Adds or replaces `key`.
  void insert(const std::string& key, const Tensor& value);
  bool contains(const std::string& key) const { return index_.count(key) != 0; }
  // Throws ValueError naming the key when absent.
  const Tensor& at(const std::string& key) const;
  const Tensor* find(const std::string& key) const;
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  std::vector<std::string> keys() const;
  std::vector<Entry>::const_iterator begin() const { return entries_.begin(); }
  std::vector<Entry>::const_iterator end() const { return entries_.end(); }

 private:
  std::vector<Entry> entries_;
  std::unordered_map<std::string, size_t> index_;
};

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Module;
using ModulePtr = std::shared_ptr<Module>;

// What load_state_dict(dict, /*strict=*/false) could not match (strict mode throws instead).
struct LoadResult {
  std::vector<std::string> missing_keys;
  std::vector<std::string> unexpected_keys;
};

class Module : public std::enable_shared_from_this<Module> {
 public:
  explicit Module(std::string type_name = "Module");
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // The single-tensor forward that Sequential chains. Modules with other signatures add their own
  // forward overloads; the default throws ValueError.
  virtual Tensor forward(const Tensor& x);
  Tensor operator()(const Tensor& x) { return forward(x); }

  // ---- registration (names may not be empty, contain '.', or repeat) ----
  // Registers `t` as a parameter (marking it requires_grad unless told otherwise) and returns the handle. An
  // undefined tensor registers an absent parameter (like bias=None), skipped by parameters() and
  // state_dict().
  Tensor register_parameter(const std::string& name, Tensor t, bool requires_grad = true);
  // A buffer is state that is saved but not trained (running statistics, masks).
  Tensor register_buffer(const std::string& name, Tensor t);
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    register_module_impl(name, module);
    return module;
  }
  // Replaces the submodule registered as `name` (e.g. to swap a layer); ValueError when there is none.
  virtual void replace_module(const std::string& name, ModulePtr module);

  // ---- traversal (registration order, depth first; shared tensors appear once) ----
  std::vector<Tensor> parameters(bool recurse = true) const;
  NamedTensors named_parameters(bool recurse = true) const;
  std::vector<Tensor> buffers(bool recurse = true) const;
  NamedTensors named_buffers(bool recurse = true) const;
  std::vector<ModulePtr> children() const;
  std::vector<std::pair<std::string, ModulePtr>> named_children() const;
  // This module and all its descendants, pre-order (this one first, with the empty name).
  std::vector<ModulePtr> modules();
  std::vector<std::pair<std::string, ModulePtr>> named_modules();
  // Calls fn on this module and every descendant, pre-order (custom initialisation, freezing, ...).
  void apply(const std::function<void(Module&)>& fn);
  // The direct child registered as `name`, or null.
  ModulePtr child(const std::string& name) const;
  // Total element count of the parameters (only those requiring a gradient when trainable_only).
  int64_t num_parameters(bool trainable_only = false) const;

  // ---- modes and gradients ----
  // Sets training mode on this module and every descendant (dropout and batch norm behave differently).
  virtual void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Clears parameter gradients: drops them (set_to_none, PyTorch's default) or fills them with zeros.
  void zero_grad(bool set_to_none = true);

  // ---- state ----
  // Parameters then buffers of each module, recursively, by dotted name; tensors share data with the module
  // (detached from the graph).
  StateDict state_dict() const;
  // Copies values in place into the registered tensors (optimizers keep their references). Missing or
  // unexpected keys throw ValueError in strict mode; a shape mismatch always throws ShapeError naming the key
  // and both shapes.
  LoadResult load_state_dict(const StateDict& dict, bool strict = true);

  // ---- names and printing ----
  const std::string& type_name() const { return type_name_; }
  // The name this module was registered under in its parent ("0", "fc1"); empty at the top level.
  const std::string& name() const { return name_; }
  // The dotted path from the root ("features.0"); empty at the top level.
  const std::string& path() const { return path_; }
  // PyTorch-style tree: "Linear(in_features=4, out_features=2, bias=true)", children indented.
  std::string to_string() const;
  // The text inside this module's parentheses (its options).
  virtual std::string extra_repr() const { return ""; }

 protected:
  // "Linear 'features.0'" (or "Linear" at the top level): how errors name this layer.
  std::string describe() const;
  // Throws ShapeError "<layer>: expected input <expected>, got <shape>" unless `ok`.
  void check_input_shape(const Tensor& x, bool ok, const std::string& expected) const;
  // Throws ShapeError unless x has `rank` dimensions (rank < 0: at least -rank) and x.size(axis) == size
  // (size < 0: any).
  void check_input_shape(const Tensor& x, int64_t rank, int64_t axis, int64_t size,
                         const std::string& expected) const;

  bool training_ = true;

 private:
  void register_module_impl(const std::string& name, ModulePtr module);
  void check_new_name(const std::string& name, const char* what) const;
  void set_path(const std::string& name, const std::string& path);
  void collect(const std::string& prefix, bool params, bool recurse, NamedTensors& out,
               std::vector<const TensorImpl*>& seen) const;
  void collect_state(const std::string& prefix, StateDict& out) const;

  std::string type_name_;
  std::string name_, path_;
  std::vector<std::pair<std::string, Tensor>> params_;
  std::vector<std::pair<std::string, Tensor>> buffers_;
  std::vector<std::pair<std::string, ModulePtr>> children_;
};

std::ostream& operator<<(std::ostream& os, const Module& m);

}  // namespace ember::nn
