// Micro-benchmarks of Ember against the libraries it is built from, called directly: matmul in GFLOP/s
// (ember::matmul vs oneDNN's dnnl_sgemm vs OpenBLAS's cblas_sgemm) and the fixed cost of one tiny op with and
// without autograd recording. Names are "<case>/<impl>" so that micro_report.py can line them up with
// micro_torch and torch_micro.py. Every fast path is checked against the reference GEMM before timing.
//
//   micro_ember [--threads N] [--quick] [google-benchmark flags, e.g. --benchmark_format=json]
#include <benchmark/benchmark.h>
#include <omp.h>
#include <oneapi/dnnl/dnnl.h>
#ifdef EMBER_BENCH_OPENBLAS
#include <cblas.h>
#endif

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ember/ember.h"
#include "ember/kernels/gemm.h"

namespace {

struct MatmulCase {
  int64_t m, k, n;
};
struct Options {
  int threads = 0;
  bool quick = false;
};

std::string mm_name(const MatmulCase& c) {
  return "matmul_" + std::to_string(c.m) + "x" + std::to_string(c.k) + "x" + std::to_string(c.n);
}
std::string bmm_name(int64_t b, const MatmulCase& c) {
  return "bmm_" + std::to_string(b) + "x" + std::to_string(c.m) + "x" + std::to_string(c.k) + "x" +
         std::to_string(c.n);
}

std::vector<float> random_vector(int64_t n, unsigned seed) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = static_cast<float>(((i * 2654435761u + seed) % 1000) / 500.0 - 1.0);
  return v;
}

// The fast paths must agree with the reference before they are worth timing.
void check_close(const float* got, const std::vector<float>& want, const char* what) {
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::fabs(got[i] - want[i]) > 1e-3f * (1.0f + std::fabs(want[i]))) {
      std::fprintf(stderr, "micro_ember: %s disagrees with gemm_ref at %zu: %g vs %g\n", what, i, got[i],
                   want[i]);
      std::exit(1);
    }
  }
}

void self_check() {
  const int64_t b = 3, m = 17, k = 33, n = 9;
  auto av = random_vector(b * m * k, 1), bv = random_vector(b * k * n, 2);
  std::vector<float> want(static_cast<size_t>(b * m * n));
  for (int64_t i = 0; i < b; ++i)
    ember::kernels::gemm_ref<float>(false, false, m, n, k, 1.f, av.data() + i * m * k, k,
                                    bv.data() + i * k * n, n, 0.f, want.data() + i * m * n, n);
  ember::Tensor out = ember::matmul(ember::from_vector(av, {b, m, k}), ember::from_vector(bv, {b, k, n}));
  check_close(out.data<float>(), want, "ember::matmul");
  std::vector<float> c(static_cast<size_t>(m * n));
  std::vector<float> want0(want.begin(), want.begin() + m * n);
  dnnl_sgemm('N', 'N', m, n, k, 1.f, av.data(), k, bv.data(), n, 0.f, c.data(), n);
  check_close(c.data(), want0, "dnnl_sgemm");
#ifdef EMBER_BENCH_OPENBLAS
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.f, av.data(), k, bv.data(), n, 0.f,
              c.data(), n);
  check_close(c.data(), want0, "cblas_sgemm");
#endif
}

void set_flops(benchmark::State& st, double flops_per_iter) {
  st.counters["flops"] = benchmark::Counter(flops_per_iter, benchmark::Counter::kIsIterationInvariantRate);
}

void bm_matmul_ember(benchmark::State& st, MatmulCase c) {
  ember::Tensor a = ember::randn({c.m, c.k}), b = ember::randn({c.k, c.n});
  for (auto _ : st) {
    ember::Tensor out = ember::matmul(a, b);
    benchmark::DoNotOptimize(out.impl());
  }
  set_flops(st, 2.0 * c.m * c.n * c.k);
}

void bm_matmul_dnnl(benchmark::State& st, MatmulCase c) {
  auto a = random_vector(c.m * c.k, 1), b = random_vector(c.k * c.n, 2);
  std::vector<float> out(static_cast<size_t>(c.m * c.n));
  for (auto _ : st) {
    dnnl_sgemm('N', 'N', c.m, c.n, c.k, 1.f, a.data(), c.k, b.data(), c.n, 0.f, out.data(), c.n);
    benchmark::ClobberMemory();
  }
  set_flops(st, 2.0 * c.m * c.n * c.k);
}

#ifdef EMBER_BENCH_OPENBLAS
void bm_matmul_openblas(benchmark::State& st, MatmulCase c) {
  auto a = random_vector(c.m * c.k, 1), b = random_vector(c.k * c.n, 2);
  std::vector<float> out(static_cast<size_t>(c.m * c.n));
  for (auto _ : st) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c.m, c.n, c.k, 1.f, a.data(), c.k, b.data(), c.n,
                0.f, out.data(), c.n);
    benchmark::ClobberMemory();
  }
  set_flops(st, 2.0 * c.m * c.n * c.k);
}
#endif

void bm_bmm_ember(benchmark::State& st, int64_t nb, MatmulCase c) {
  ember::Tensor a = ember::randn({nb, c.m, c.k}), b = ember::randn({nb, c.k, c.n});
  for (auto _ : st) {
    ember::Tensor out = ember::matmul(a, b);
    benchmark::DoNotOptimize(out.impl());
  }
  set_flops(st, 2.0 * nb * c.m * c.n * c.k);
}

// The library baselines for a batch: one call per matrix, in a loop (what a caller without a batched API
// does).
void bm_bmm_dnnl(benchmark::State& st, int64_t nb, MatmulCase c) {
  auto a = random_vector(nb * c.m * c.k, 1), b = random_vector(nb * c.k * c.n, 2);
  std::vector<float> out(static_cast<size_t>(nb * c.m * c.n));
  for (auto _ : st) {
    for (int64_t i = 0; i < nb; ++i)
      dnnl_sgemm('N', 'N', c.m, c.n, c.k, 1.f, a.data() + i * c.m * c.k, c.k, b.data() + i * c.k * c.n, c.n,
                 0.f, out.data() + i * c.m * c.n, c.n);
    benchmark::ClobberMemory();
  }
  set_flops(st, 2.0 * nb * c.m * c.n * c.k);
}

#ifdef EMBER_BENCH_OPENBLAS
void bm_bmm_openblas(benchmark::State& st, int64_t nb, MatmulCase c) {
  auto a = random_vector(nb * c.m * c.k, 1), b = random_vector(nb * c.k * c.n, 2);
  std::vector<float> out(static_cast<size_t>(nb * c.m * c.n));
  for (auto _ : st) {
    for (int64_t i = 0; i < nb; ++i)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c.m, c.n, c.k, 1.f, a.data() + i * c.m * c.k,
                  c.k, b.data() + i * c.k * c.n, c.n, 0.f, out.data() + i * c.m * c.n, c.n);
    benchmark::ClobberMemory();
  }
  set_flops(st, 2.0 * nb * c.m * c.n * c.k);
}
#endif

// The fixed cost of one op: add of two 1-element tensors, the result dropped every iteration.
void bm_add(benchmark::State& st, bool grad) {
  ember::Tensor a = ember::ones({1}), b = ember::ones({1});
  if (grad) {
    a.requires_grad_();
    b.requires_grad_();
  }
  for (auto _ : st) {
    ember::Tensor out = ember::add(a, b);
    benchmark::DoNotOptimize(out.impl());
  }
}

Options parse(int& argc, char** argv) {
  Options o;
  int w = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      o.quick = true;
    } else if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
      o.threads = std::atoi(argv[++i]);
    } else {
      argv[w++] = argv[i];
    }
  }
  argc = w;
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt = parse(argc, argv);
  if (opt.threads > 0) {
    ember::set_num_threads(opt.threads);
#ifdef EMBER_BENCH_OPENBLAS
    openblas_set_num_threads(opt.threads);
#endif
  }
  self_check();

  std::vector<MatmulCase> mms = {{128, 784, 128}, {256, 256, 256}, {1024, 1024, 1024}};
  int64_t nb = 32;
  MatmulCase bmm = {64, 64, 64};
  if (opt.quick) {
    mms = {{8, 16, 8}};
    nb = 2;
    bmm = {4, 4, 4};
  }
  std::vector<benchmark::internal::Benchmark*> all;
  for (const auto& c : mms) {
    all.push_back(benchmark::RegisterBenchmark((mm_name(c) + "/ember").c_str(), bm_matmul_ember, c));
    all.push_back(benchmark::RegisterBenchmark((mm_name(c) + "/onednn").c_str(), bm_matmul_dnnl, c));
#ifdef EMBER_BENCH_OPENBLAS
    all.push_back(benchmark::RegisterBenchmark((mm_name(c) + "/openblas").c_str(), bm_matmul_openblas, c));
#endif
  }
  all.push_back(benchmark::RegisterBenchmark((bmm_name(nb, bmm) + "/ember").c_str(), bm_bmm_ember, nb, bmm));
  all.push_back(benchmark::RegisterBenchmark((bmm_name(nb, bmm) + "/onednn").c_str(), bm_bmm_dnnl, nb, bmm));
#ifdef EMBER_BENCH_OPENBLAS
  all.push_back(
      benchmark::RegisterBenchmark((bmm_name(nb, bmm) + "/openblas").c_str(), bm_bmm_openblas, nb, bmm));
#endif
  for (auto* b : all) b->Unit(benchmark::kMicrosecond);
  all.push_back(benchmark::RegisterBenchmark("add_1/ember", bm_add, false)->Unit(benchmark::kNanosecond));
  all.push_back(benchmark::RegisterBenchmark("add_1_grad/ember", bm_add, true)->Unit(benchmark::kNanosecond));
  for (auto* b : all) {
    b->UseRealTime();
    if (opt.quick) b->Iterations(1);
  }

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
