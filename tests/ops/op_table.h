// The op test table. Each op family's test file registers rows: a case name, the op it covers (a name from
// include/ember/ops/op_list.def) and how Ember computes it from the case's inputs. The inputs, PyTorch's
// outputs and gradients come from tests/fixtures/ops/<family>.json, made by tests/fixtures/make_op_fixtures.py
// from tests/fixtures/op_cases/<family>.py, where a case of the same name says how PyTorch computes it.
//
//   static ember::test::OpCaseRegistrar reg({
//     {"add_broadcast", "add", [](const ember::test::Inputs& x) { return ember::add(x[0], x[1]); }},
//   });
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "ember/ops/ops.h"

namespace ember::test {

using Inputs = std::vector<Tensor>;

struct OpCase {
  std::string name;
  std::string op;
  std::function<Tensor(const Inputs&)> fn;
};

std::vector<OpCase>& op_cases();

struct OpCaseRegistrar {
  explicit OpCaseRegistrar(std::vector<OpCase> cases) {
    for (auto& c : cases) op_cases().push_back(std::move(c));
  }
};

}  // namespace ember::test
