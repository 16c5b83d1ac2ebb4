#include "ember/nn/container.h"

#include <typeinfo>

#include "ember/nn/activation.h"
#include "ember/nn/conv.h"
#include "ember/nn/linear.h"
#include "ember/nn/pooling.h"

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

// MaxPool2d with a 2x2 window, stride 2, no padding, floor mode.
bool is_pool2(const Module& m) {
  if (typeid(m) != typeid(MaxPool2d)) return false;
  const auto& o = static_cast<const MaxPool2d&>(m).options();
  return o.kernel_size() == Pair{2, 2} && o.stride() == Pair{2, 2} && o.padding() == Pair{0, 0} &&
         !o.ceil_mode();
}

bool is_plain_linear(const Module& m) {
  return typeid(m) == typeid(Linear);
}
}  // namespace

// Conv2d, [ReLU,] MaxPool2d(2) starting at item i, as one conv2d_maxpool2 op (the convolution output of the
// first layer of an image model is pooled while in cache instead of going through memory). Returns the number
// of items consumed, 0 when the pattern does not apply.
size_t Sequential::fuse_conv_pool(size_t i, Tensor& h) {
  if (i + 1 >= items_.size() || typeid(*items_[i]) != typeid(Conv2d) || !h.defined() || h.dim() != 4)
    return 0;
  const bool relu = is_plain_relu(*items_[i + 1]);
  const size_t pool = relu ? i + 2 : i + 1;
  if (pool >= items_.size() || !is_pool2(*items_[pool])) return 0;
  auto& conv = static_cast<Conv2d&>(*items_[i]);
  if (h.size(1) != conv.options().in_channels()) return 0;  // let Conv2d::forward report the shape error
  h = conv2d_maxpool2(h, conv.weight, conv.bias, conv.params(), relu);
  return pool - i + 1;
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor h = x;
  for (size_t i = 0; i < items_.size(); ++i) {
    if (size_t used = fuse_conv_pool(i, h)) {
      i += used - 1;
      continue;
    }
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
