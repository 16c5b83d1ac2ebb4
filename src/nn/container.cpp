#include "ember/nn/container.h"

#include <typeinfo>

#include "ember/nn/activation.h"
#include "ember/nn/linear.h"

namespace ember::nn {

namespace {
size_t checked_index(int64_t index, size_t size, const std::string& who) {
  int64_t n = static_cast<int64_t>(size);
  int64_t i = index < 0 ? index + n : index;
  EMBER_CHECK(i >= 0 && i < n, IndexError, who, ": index ", index, " is out of range for ", n, " modules");
  return static_cast<size_t>(i);
}
}  // namespace

void Sequential::push_back(ModulePtr module) {
  push_back(std::to_string(items_.size()), std::move(module));
}

void Sequential::push_back(std::function<Tensor(const Tensor&)> fn) {
  push_back(std::make_shared<Functional>(std::move(fn)));
}

void Sequential::push_back(const std::string& name, ModulePtr module) {
  register_module(name, module);
  items_.push_back(std::move(module));
}

namespace {
bool is_plain_relu(const Module& m) {
  return typeid(m) == typeid(ReLU);
}
bool is_plain_linear(const Module& m) {
  return typeid(m) == typeid(Linear);
}
}  // namespace

Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (size_t i = 0; i < items_.size(); ++i) {
    // ReLU then MaxPool2d runs as MaxPool2d then ReLU: relu is monotone, so max(relu(window)) ==
    // relu(max(window)) and the gradient reaches the same element (or is zero in both orders when the window
    // is <= 0), but the ReLU forward and backward passes touch a quarter of the elements (2x2 pooling). Every
    // window holds at least one real element (padding <= kernel / 2), so padding never wins.
    if (i + 1 < items_.size() && is_plain_relu(*items_[i]) && items_[i + 1]->type_name() == "MaxPool2d") {
      h = items_[i]->forward(items_[i + 1]->forward(h));
      ++i;
      continue;
    }
    // Linear then ReLU: one fused op (the relu is applied to the product's output in place when no gradient
    // is recorded; with recording it is the same two ops).
    if (i + 1 < items_.size() && is_plain_linear(*items_[i]) && is_plain_relu(*items_[i + 1])) {
      h = static_cast<Linear&>(*items_[i]).forward_relu(h);
      ++i;
      continue;
    }
    h = items_[i]->forward(h);
  }
  return h;
}

// Keeps the ordered item list in step with the registered children.
void Sequential::replace_module(const std::string& name, ModulePtr module) {
  Module::replace_module(name, module);
  items_ = children();
}

ModulePtr Sequential::operator[](int64_t index) const {
  return items_[checked_index(index, items_.size(), describe())];
}

ModuleList::ModuleList(const std::vector<ModulePtr>& modules) : ModuleList() {
  for (auto& m : modules) push_back(m);
}

void ModuleList::push_back(ModulePtr module) {
  register_module(std::to_string(items_.size()), module);
  items_.push_back(std::move(module));
}

void ModuleList::replace_module(const std::string& name, ModulePtr module) {
  Module::replace_module(name, module);
  items_ = children();
}

ModulePtr ModuleList::operator[](int64_t index) const {
  return items_[checked_index(index, items_.size(), describe())];
}

void ModuleDict::insert(const std::string& key, ModulePtr module) {
  register_module(key, std::move(module));
}

ModulePtr ModuleDict::operator[](const std::string& key) const {
  ModulePtr m = child(key);
  EMBER_CHECK(m != nullptr, ValueError, describe(), ": no module named '", key, "'");
  return m;
}

std::vector<std::string> ModuleDict::keys() const {
  std::vector<std::string> k;
  for (auto& [n, m] : named_children()) k.push_back(n);
  return k;
}

}  // namespace ember::nn
