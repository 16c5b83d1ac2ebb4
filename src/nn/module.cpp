// nn::Module: registration, traversal, modes, state dicts and printing.
#include "ember/nn/module.h"

#include <algorithm>
#include <sstream>

#include "ember/autograd/grad_mode.h"

namespace ember::nn {

// ---- StateDict ----

void StateDict::insert(const std::string& key, const Tensor& value) {
  auto it = index_.find(key);
  if (it != index_.end()) {
    entries_[it->second].second = value;
    return;
  }
  index_.emplace(key, entries_.size());
  entries_.emplace_back(key, value);
}

const Tensor* StateDict::find(const std::string& key) const {
  auto it = index_.find(key);
  return it == index_.end() ? nullptr : &entries_[it->second].second;
}

const Tensor& StateDict::at(const std::string& key) const {
  const Tensor* t = find(key);
  EMBER_CHECK(t != nullptr, ValueError, "state_dict: no entry named '", key, "'");
  return *t;
}

std::vector<std::string> StateDict::keys() const {
  std::vector<std::string> k;
  k.reserve(entries_.size());
  for (auto& e : entries_) k.push_back(e.first);
  return k;
}

// ---- Module ----

Module::Module(std::string type_name) : type_name_(std::move(type_name)) {}

Tensor Module::forward(const Tensor&) {
  throw ValueError(detail::concat(describe(), ": this module has no single-tensor forward(x)"));
}

void Module::check_new_name(const std::string& name, const char* what) const {
  EMBER_CHECK(!name.empty(), ValueError, describe(), ": ", what, " name must not be empty");
  EMBER_CHECK(name.find('.') == std::string::npos, ValueError, describe(), ": ", what, " name '", name,
              "' must not contain '.'");
  auto taken = [&](const auto& v) {
    return std::any_of(v.begin(), v.end(), [&](const auto& e) { return e.first == name; });
  };
  EMBER_CHECK(!taken(params_) && !taken(buffers_) && !taken(children_), ValueError, describe(), ": ", what,
              " name '", name, "' is already registered");
}

Tensor Module::register_parameter(const std::string& name, Tensor t, bool requires_grad) {
  check_new_name(name, "parameter");
  if (t.defined() && requires_grad && !t.requires_grad()) {
    EMBER_CHECK(t.is_leaf(), ValueError, describe(), ": parameter '", name,
                "' must be a leaf tensor (detach() it first)");
    t.requires_grad_(true);
  }
  params_.emplace_back(name, t);
  return t;
}

Tensor Module::register_buffer(const std::string& name, Tensor t) {
  check_new_name(name, "buffer");
  buffers_.emplace_back(name, t);
  return t;
}

void Module::register_module_impl(const std::string& name, ModulePtr module) {
  EMBER_CHECK(module != nullptr, ValueError, describe(), ": submodule '", name, "' is null");
  EMBER_CHECK(module.get() != this, ValueError, describe(), ": a module cannot be its own submodule");
  check_new_name(name, "submodule");
  children_.emplace_back(name, module);
  module->set_path(name, path_.empty() ? name : path_ + "." + name);
}

void Module::replace_module(const std::string& name, ModulePtr module) {
  EMBER_CHECK(module != nullptr, ValueError, describe(), ": replacement for '", name, "' is null");
  for (auto& c : children_) {
    if (c.first == name) {
      c.second = module;
      module->set_path(name, path_.empty() ? name : path_ + "." + name);
      return;
    }
  }
  throw ValueError(detail::concat(describe(), ": no submodule named '", name, "' to replace"));
}

void Module::set_path(const std::string& name, const std::string& path) {
  name_ = name;
  path_ = path;
  for (auto& [n, c] : children_) c->set_path(n, path_ + "." + n);
}

void Module::collect(const std::string& prefix, bool params, bool recurse, NamedTensors& out,
                     std::vector<const TensorImpl*>& seen) const {
  for (auto& [n, t] : params ? params_ : buffers_) {
    if (!t.defined()) continue;
    if (std::find(seen.begin(), seen.end(), t.impl()) != seen.end()) continue;
    seen.push_back(t.impl());
    out.emplace_back(prefix + n, t);
  }
  if (!recurse) return;
  for (auto& [n, c] : children_) c->collect(prefix + n + ".", params, true, out, seen);
}

NamedTensors Module::named_parameters(bool recurse) const {
  NamedTensors out;
  std::vector<const TensorImpl*> seen;
  collect("", true, recurse, out, seen);
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [n, t] : named_parameters(recurse)) out.push_back(t);
  return out;
}

NamedTensors Module::named_buffers(bool recurse) const {
  NamedTensors out;
  std::vector<const TensorImpl*> seen;
  collect("", false, recurse, out, seen);
  return out;
}

std::vector<Tensor> Module::buffers(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [n, t] : named_buffers(recurse)) out.push_back(t);
  return out;
}

std::vector<ModulePtr> Module::children() const {
  std::vector<ModulePtr> out;
  for (auto& [n, c] : children_) out.push_back(c);
  return out;
}

std::vector<std::pair<std::string, ModulePtr>> Module::named_children() const {
  return children_;
}

ModulePtr Module::child(const std::string& name) const {
  for (auto& [n, c] : children_)
    if (n == name) return c;
  return nullptr;
}

std::vector<std::pair<std::string, ModulePtr>> Module::named_modules() {
  std::vector<std::pair<std::string, ModulePtr>> out;
  // A module not owned by a shared_ptr (e.g. on the stack) is listed through a non-owning pointer.
  ModulePtr self = weak_from_this().lock();
  if (!self) self = ModulePtr(ModulePtr(), this);
  out.emplace_back("", self);
  for (auto& [n, c] : children_)
    for (auto& [sub, m] : c->named_modules()) out.emplace_back(sub.empty() ? n : n + "." + sub, m);
  return out;
}

std::vector<ModulePtr> Module::modules() {
  std::vector<ModulePtr> out;
  for (auto& [n, m] : named_modules()) out.push_back(m);
  return out;
}

void Module::apply(const std::function<void(Module&)>& fn) {
  fn(*this);
  for (auto& [n, c] : children_) c->apply(fn);
}

int64_t Module::num_parameters(bool trainable_only) const {
  int64_t n = 0;
  for (auto& t : parameters())
    if (!trainable_only || t.requires_grad()) n += t.numel();
  return n;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [n, c] : children_) c->train(on);
}

void Module::zero_grad(bool set_to_none) {
  for (auto& t : parameters()) {
    if (set_to_none) {
      t.zero_grad();
    } else if (t.grad().defined()) {
      fill_(t.grad(), 0.0);
    }
  }
}

void Module::collect_state(const std::string& prefix, StateDict& out) const {
  for (auto& [n, t] : params_)
    if (t.defined()) out.insert(prefix + n, t.detach());
  for (auto& [n, t] : buffers_)
    if (t.defined()) out.insert(prefix + n, t.detach());
  for (auto& [n, c] : children_) c->collect_state(prefix + n + ".", out);
}

StateDict Module::state_dict() const {
  StateDict out;
  collect_state("", out);
  return out;
}

LoadResult Module::load_state_dict(const StateDict& dict, bool strict) {
  StateDict own = state_dict();
  LoadResult r;
  for (auto& [key, t] : own)
    if (!dict.contains(key)) r.missing_keys.push_back(key);
  for (auto& [key, t] : dict)
    if (!own.contains(key)) r.unexpected_keys.push_back(key);
  if (strict && (!r.missing_keys.empty() || !r.unexpected_keys.empty())) {
    std::ostringstream os;
    os << "load_state_dict" << (path_.empty() ? "" : " into '" + path_ + "'") << ":";
    auto list = [&](const char* what, const std::vector<std::string>& keys) {
      if (keys.empty()) return;
      os << " " << what << " key" << (keys.size() > 1 ? "s" : "");
      for (size_t i = 0; i < keys.size(); ++i) os << (i ? ", '" : " '") << keys[i] << "'";
      os << ";";
    };
    list("missing", r.missing_keys);
    list("unexpected", r.unexpected_keys);
    throw ValueError(os.str());
  }
  // Check every shape before writing anything, so that a failed load leaves the module unchanged.
  for (auto& [key, t] : own) {
    const Tensor* src = dict.find(key);
    if (!src) continue;
    EMBER_CHECK(src->defined(), ValueError, "load_state_dict: entry '", key, "' is an undefined tensor");
    EMBER_CHECK(src->shape() == t.shape(), ShapeError, "load_state_dict: size mismatch for '", key,
                "': the checkpoint has shape ", src->shape(), " but the module has shape ", t.shape());
  }
  for (auto& [key, t] : own) {
    const Tensor* src = dict.find(key);
    if (src && !src->same(t)) copy_into(t, *src);
  }
  return r;
}

std::string Module::describe() const {
  return path_.empty() ? type_name_ : type_name_ + " '" + path_ + "'";
}

void Module::check_input_shape(const Tensor& x, bool ok, const std::string& expected) const {
  EMBER_CHECK(x.defined(), ValueError, describe(), ": undefined input");
  EMBER_CHECK(ok, ShapeError, describe(), ": expected input ", expected, ", got ", x.shape());
}

void Module::check_input_shape(const Tensor& x, int64_t rank, int64_t axis, int64_t size,
                               const std::string& expected) const {
  EMBER_CHECK(x.defined(), ValueError, describe(), ": undefined input");
  bool ok = rank >= 0 ? x.dim() == rank : x.dim() >= -rank;
  if (ok && size >= 0) {
    int64_t a = axis < 0 ? axis + x.dim() : axis;
    ok = a >= 0 && a < x.dim() && x.shape()[a] == size;
  }
  check_input_shape(x, ok, expected);
}

namespace {
// Indents every line after the first by two spaces (PyTorch's _addindent).
std::string indent(const std::string& s) {
  std::string out;
  for (char c : s) {
    out += c;
    if (c == '\n') out += "  ";
  }
  return out;
}
}  // namespace

std::string Module::to_string() const {
  std::string extra = extra_repr();
  if (children_.empty()) return type_name_ + "(" + extra + ")";
  std::string s = type_name_ + "(\n";
  if (!extra.empty()) s += "  " + indent(extra) + "\n";
  for (auto& [n, c] : children_) s += "  (" + n + "): " + indent(c->to_string()) + "\n";
  return s + ")";
}

std::ostream& operator<<(std::ostream& os, const Module& m) {
  return os << m.to_string();
}

}  // namespace ember::nn
