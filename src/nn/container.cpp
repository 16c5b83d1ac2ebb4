#include "ember/nn/container.h"

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

Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (auto& m : items_) h = m->forward(h);
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
