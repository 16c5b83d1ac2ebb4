// The table-driven op test: for every fixture case, Ember's forward and backward against PyTorch 1.13 (in
// float32 and float64) and, for differentiable ops, a central finite-difference check in float64.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "op_table.h"

namespace ember::test {

std::vector<OpCase>& op_cases() {
  static std::vector<OpCase> cases;
  return cases;
}

namespace {

using nlohmann::json;

struct FixtureCase {
  std::string file;
  json data;
};

std::vector<FixtureCase>& fixtures() {
  static std::vector<FixtureCase> all = [] {
    std::vector<FixtureCase> out;
    std::filesystem::path dir = std::filesystem::path(EMBER_FIXTURE_DIR) / "ops";
    std::vector<std::filesystem::path> files;
    if (!std::filesystem::is_directory(dir)) return out;  // the coverage tests then fail with a clear message
    for (auto& e : std::filesystem::directory_iterator(dir))
      if (e.path().extension() == ".json") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (auto& f : files) {
      std::ifstream in(f);
      json j = json::parse(in);
      for (auto& c : j.at("cases")) out.push_back({f.filename().string(), c});
    }
    return out;
  }();
  return all;
}

std::vector<std::string> fixture_names() {
  std::vector<std::string> names;
  for (auto& f : fixtures()) names.push_back(f.data.at("name").get<std::string>());
  return names;
}

const OpCase* find_row(const std::string& name) {
  for (auto& c : op_cases())
    if (c.name == name) return &c;
  return nullptr;
}

DType parse_dtype(const std::string& s) {
  if (s == "float") return DType::Float64;
  if (s == "int64") return DType::Int64;
  if (s == "bool") return DType::Bool;
  throw std::runtime_error("fixture: unknown dtype " + s);
}

// A fixture tensor as an Ember tensor; floating values become `float_dtype`.
Tensor load_tensor(const json& j, DType float_dtype) {
  Shape shape(j.at("shape").get<std::vector<int64_t>>());
  DType dt = parse_dtype(j.at("dtype").get<std::string>());
  std::vector<double> v = j.at("data").get<std::vector<double>>();
  Tensor t = from_vector(v, shape.empty() ? Shape{} : shape);
  if (shape.empty()) t = as_strided(t, Shape{}, Shape{}, 0);
  return copy_as(t, dt == DType::Float64 ? float_dtype : dt);
}

struct Tol {
  double rtol, atol;
};

void expect_close(const Tensor& got, const json& want, Tol tol, const std::string& what) {
  ASSERT_TRUE(got.defined()) << what << ": Ember produced no tensor";
  Shape shape(want.at("shape").get<std::vector<int64_t>>());
  ASSERT_EQ(got.shape(), shape) << what << ": shape";
  std::vector<double> g = got.to_double_vector();
  std::vector<double> w = want.at("data").get<std::vector<double>>();
  bool exact = want.at("dtype") != "float";
  if (exact) {
    Tensor expected_dtype = load_tensor(want, DType::Float64);
    EXPECT_EQ(got.dtype(), expected_dtype.dtype()) << what << ": dtype";
  }
  int reported = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    bool ok = exact ? g[i] == w[i] : std::abs(g[i] - w[i]) <= tol.atol + tol.rtol * std::abs(w[i]);
    if (!ok && reported++ < 5)
      ADD_FAILURE() << what << ": element " << i << " is " << g[i] << ", PyTorch gives " << w[i];
  }
}

struct CaseRun {
  Tensor out;
  std::vector<Tensor> grads;
};

CaseRun run_case(const OpCase& row, const json& c, DType dt, bool backward) {
  Inputs in;
  for (auto& j : c.at("inputs")) {
    Tensor t = load_tensor(j, dt);
    if (backward && j.value("grad", false)) t.requires_grad_();
    in.push_back(t);
  }
  CaseRun r;
  r.out = row.fn(in);
  if (backward && c.contains("grad_output") && !c.at("grad_output").is_null()) {
    r.out.backward(load_tensor(c.at("grad_output"), dt));
    for (auto& t : in) r.grads.push_back(t.requires_grad() ? t.grad() : Tensor());
  }
  return r;
}

// Central differences of L(x) = sum(f(x) * g) in float64, against Ember's analytic gradient.
void gradcheck(const OpCase& row, const json& c) {
  // A case may widen the step and tolerance (e.g. a round trip through float32, linear but quantised).
  const double eps = c.value("gradcheck_eps", 1e-6);
  const double rtol = c.value("gradcheck_rtol", 1e-5);
  Inputs base;
  for (auto& j : c.at("inputs")) base.push_back(load_tensor(j, DType::Float64));
  Tensor g = load_tensor(c.at("grad_output"), DType::Float64);
  CaseRun analytic = run_case(row, c, DType::Float64, true);
  auto loss = [&](const Inputs& in) {
    NoGradGuard ng;
    Tensor out = row.fn(in);
    std::vector<double> o = out.to_double_vector(), gv = g.to_double_vector();
    double s = 0;
    for (size_t i = 0; i < o.size(); ++i) s += o[i] * gv[i];
    return s;
  };
  auto& specs = c.at("inputs");
  for (size_t k = 0; k < base.size(); ++k) {
    if (!specs[k].value("grad", false)) continue;
    ASSERT_TRUE(analytic.grads[k].defined()) << row.name << ": input " << k << " received no gradient";
    std::vector<double> an = analytic.grads[k].to_double_vector();
    for (int64_t i = 0; i < base[k].numel(); ++i) {
      Inputs plus = base, minus = base;
      plus[k] = copy_as(base[k], DType::Float64);
      minus[k] = copy_as(base[k], DType::Float64);
      plus[k].data<double>()[i] += eps;
      minus[k].data<double>()[i] -= eps;
      double num = (loss(plus) - loss(minus)) / (2 * eps);
      EXPECT_NEAR(an[i], num, 1e-6 + rtol * std::abs(num))
          << row.name << ": d/d input" << k << "[" << i << "] analytic vs finite difference";
    }
  }
}

class OpTable : public ::testing::TestWithParam<std::string> {};

TEST_P(OpTable, MatchesPyTorchAndFiniteDifferences) {
  const std::string& name = GetParam();
  const json* c = nullptr;
  for (auto& f : fixtures())
    if (f.data.at("name") == name) c = &f.data;
  ASSERT_NE(c, nullptr);
  const OpCase* row = find_row(name);
  ASSERT_NE(row, nullptr) << "fixture case '" << name << "' has no C++ row in tests/ops/*_test.cpp";
  EXPECT_EQ(row->op, c->at("op").get<std::string>()) << "row and fixture disagree on the op";
  bool has_grad = c->contains("grad_output") && !c->at("grad_output").is_null();
  for (DType dt : {DType::Float32, DType::Float64}) {
    Tol tol = dt == DType::Float32 ? Tol{2e-4, 2e-5} : Tol{1e-9, 1e-12};
    std::string tag = name + (dt == DType::Float32 ? " [float32]" : " [float64]");
    CaseRun r = run_case(*row, *c, dt, has_grad);
    expect_close(r.out, c->at("output"), tol, tag + " output");
    if (has_grad) {
      auto& grads = c->at("grads");
      for (size_t k = 0; k < grads.size(); ++k) {
        if (grads[k].is_null()) continue;
        expect_close(r.grads.at(k), grads[k], tol, tag + " grad of input " + std::to_string(k));
      }
    }
  }
  if (has_grad) gradcheck(*row, *c);
}

INSTANTIATE_TEST_SUITE_P(Ops, OpTable, ::testing::ValuesIn(fixture_names()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

struct OpEntry {
  const char* name;
  bool differentiable;
};
const OpEntry kOpList[] = {
#define EMBER_OP(name, diff) {#name, diff},
#include "ember/ops/op_list.def"
#undef EMBER_OP
};

TEST(OpTableCoverage, EveryOpHasFixtureAndGradcheckRows) {
  for (const OpEntry& op : kOpList) {
    bool fixture = false, gradchecked = false;
    for (auto& f : fixtures()) {
      if (f.data.at("op") != op.name) continue;
      if (!find_row(f.data.at("name"))) {
        continue;
      }
      fixture = true;
      if (f.data.contains("grad_output") && !f.data.at("grad_output").is_null()) gradchecked = true;
    }
    EXPECT_TRUE(fixture) << "op '" << op.name << "' has no PyTorch fixture row";
    if (op.differentiable) {
      EXPECT_TRUE(gradchecked) << "op '" << op.name << "' has no gradient-check row";
    }
  }
}

TEST(OpTableCoverage, EveryRowHasAFixture) {
  std::set<std::string> names;
  for (auto& f : fixtures()) names.insert(f.data.at("name").get<std::string>());
  std::set<std::string> ops;
  for (const OpEntry& op : kOpList) ops.insert(op.name);
  for (auto& row : op_cases()) {
    EXPECT_TRUE(names.count(row.name)) << "C++ row '" << row.name << "' has no fixture case (run "
                                       << "tests/fixtures/make_op_fixtures.py)";
    EXPECT_TRUE(ops.count(row.op)) << "C++ row '" << row.name << "' names op '" << row.op
                                   << "', which is not in op_list.def";
  }
}

}  // namespace
}  // namespace ember::test
