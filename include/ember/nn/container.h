// Containers: Sequential (chains single-tensor modules and lambdas, named "0", "1", ...), ModuleList (an
// indexed list, no forward) and ModuleDict (modules by name, insertion order).
//
//   auto net = std::make_shared<ember::nn::Sequential>(
//       std::make_shared<ember::nn::Flatten>(),
//       std::make_shared<ember::nn::Linear>(784, 128),
//       [](const ember::Tensor& x) { return ember::relu(x); },   // wrapped in a Functional
//       std::make_shared<ember::nn::Linear>(128, 10));
//   auto logits = net->forward(images);
//   auto first = net->at<ember::nn::Linear>(1);               // typed access; (*net)[1] is a ModulePtr
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "ember/nn/basic.h"
#include "ember/nn/module.h"

namespace ember::nn {

class Sequential : public Module {
 public:
  Sequential() : Module("Sequential") {}
  // Each argument is a module (any shared_ptr to a Module subclass) or a Tensor(const Tensor&) callable.
  template <typename First, typename... Rest>
  explicit Sequential(First&& first, Rest&&... rest) : Module("Sequential") {
    push_back(std::forward<First>(first));
    (push_back(std::forward<Rest>(rest)), ...);
  }

  void push_back(ModulePtr module);
  void push_back(std::function<Tensor(const Tensor&)> fn);
  // Adds under an explicit name instead of the next index.
  void push_back(const std::string& name, ModulePtr module);

  Tensor forward(const Tensor& x) override;
  void replace_module(const std::string& name, ModulePtr module) override;

  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  // The i-th module (negative counts from the end); IndexError when out of range.
  ModulePtr operator[](int64_t index) const;
  // The i-th module as M; ValueError when it is another type.
  template <typename M>
  std::shared_ptr<M> at(int64_t index) const {
    auto m = std::dynamic_pointer_cast<M>((*this)[index]);
    EMBER_CHECK(m != nullptr, ValueError, describe(), ": element ", index, " is a ",
                (*this)[index]->type_name(), ", not the requested type");
    return m;
  }
  std::vector<ModulePtr>::const_iterator begin() const { return items_.begin(); }
  std::vector<ModulePtr>::const_iterator end() const { return items_.end(); }

 private:
  size_t fuse_conv_pool(size_t i, Tensor& h);
  std::vector<ModulePtr> items_;
};

class ModuleList : public Module {
 public:
  ModuleList() : Module("ModuleList") {}
  explicit ModuleList(const std::vector<ModulePtr>& modules);
  void push_back(ModulePtr module);
  void replace_module(const std::string& name, ModulePtr module) override;
  size_t size() const { return items_.size(); }
  ModulePtr operator[](int64_t index) const;
  template <typename M>
  std::shared_ptr<M> at(int64_t index) const {
    auto m = std::dynamic_pointer_cast<M>((*this)[index]);
    EMBER_CHECK(m != nullptr, ValueError, describe(), ": element ", index, " is a ",
                (*this)[index]->type_name(), ", not the requested type");
    return m;
  }
  std::vector<ModulePtr>::const_iterator begin() const { return items_.begin(); }
  std::vector<ModulePtr>::const_iterator end() const { return items_.end(); }

 private:
  std::vector<ModulePtr> items_;
};

class ModuleDict : public Module {
 public:
  ModuleDict() : Module("ModuleDict") {}
  void insert(const std::string& key, ModulePtr module);
  bool contains(const std::string& key) const { return child(key) != nullptr; }
  // ValueError naming the key when absent.
  ModulePtr operator[](const std::string& key) const;
  template <typename M>
  std::shared_ptr<M> at(const std::string& key) const {
    auto m = std::dynamic_pointer_cast<M>((*this)[key]);
    EMBER_CHECK(m != nullptr, ValueError, describe(), ": '", key, "' is a ", (*this)[key]->type_name(),
                ", not the requested type");
    return m;
  }
  std::vector<std::string> keys() const;
  size_t size() const { return named_children().size(); }
};

}  // namespace ember::nn
