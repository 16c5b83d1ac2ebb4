// The LibTorch side of the micro-benchmarks: the same cases and names as micro_ember ("<case>/libtorch"), so
// micro_report.py can print Ember/PyTorch ratios. Built only when Debian's libtorch-dev is installed.
//
//   micro_torch [--threads N] [--quick] [google-benchmark flags]
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct MatmulCase {
  int64_t m, k, n;
};

std::string mm_name(const MatmulCase& c) {
  return "matmul_" + std::to_string(c.m) + "x" + std::to_string(c.k) + "x" + std::to_string(c.n);
}
std::string bmm_name(int64_t b, const MatmulCase& c) {
  return "bmm_" + std::to_string(b) + "x" + std::to_string(c.m) + "x" + std::to_string(c.k) + "x" +
         std::to_string(c.n);
}

void set_flops(benchmark::State& st, double flops_per_iter) {
  st.counters["flops"] = benchmark::Counter(flops_per_iter, benchmark::Counter::kIsIterationInvariantRate);
}

void bm_matmul(benchmark::State& st, MatmulCase c) {
  torch::NoGradGuard no_grad;
  torch::Tensor a = torch::randn({c.m, c.k}), b = torch::randn({c.k, c.n});
  for (auto _ : st) {
    torch::Tensor out = torch::matmul(a, b);
    benchmark::DoNotOptimize(out.data_ptr());
  }
  set_flops(st, 2.0 * c.m * c.n * c.k);
}

void bm_bmm(benchmark::State& st, int64_t nb, MatmulCase c) {
  torch::NoGradGuard no_grad;
  torch::Tensor a = torch::randn({nb, c.m, c.k}), b = torch::randn({nb, c.k, c.n});
  for (auto _ : st) {
    torch::Tensor out = torch::matmul(a, b);
    benchmark::DoNotOptimize(out.data_ptr());
  }
  set_flops(st, 2.0 * nb * c.m * c.n * c.k);
}

void bm_add(benchmark::State& st, bool grad) {
  torch::Tensor a = torch::ones({1}, torch::requires_grad(grad));
  torch::Tensor b = torch::ones({1}, torch::requires_grad(grad));
  for (auto _ : st) {
    torch::Tensor out = torch::add(a, b);
    benchmark::DoNotOptimize(out.unsafeGetTensorImpl());
  }
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 0;
  bool quick = false;
  int w = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      quick = true;
    } else if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else {
      argv[w++] = argv[i];
    }
  }
  argc = w;
  if (threads > 0) torch::set_num_threads(threads);

  std::vector<MatmulCase> mms = {{128, 784, 128}, {256, 256, 256}, {1024, 1024, 1024}};
  int64_t nb = 32;
  MatmulCase bmm = {64, 64, 64};
  if (quick) {
    mms = {{8, 16, 8}};
    nb = 2;
    bmm = {4, 4, 4};
  }
  std::vector<benchmark::internal::Benchmark*> all;
  for (const auto& c : mms)
    all.push_back(benchmark::RegisterBenchmark((mm_name(c) + "/libtorch").c_str(), bm_matmul, c));
  all.push_back(benchmark::RegisterBenchmark((bmm_name(nb, bmm) + "/libtorch").c_str(), bm_bmm, nb, bmm));
  for (auto* b : all) b->Unit(benchmark::kMicrosecond);
  all.push_back(benchmark::RegisterBenchmark("add_1/libtorch", bm_add, false)->Unit(benchmark::kNanosecond));
  all.push_back(
      benchmark::RegisterBenchmark("add_1_grad/libtorch", bm_add, true)->Unit(benchmark::kNanosecond));
  for (auto* b : all) {
    b->UseRealTime();
    if (quick) b->Iterations(1);
  }

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
