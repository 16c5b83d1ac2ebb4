// The conv-family seed workloads (MNIST-sized CNN layers): Conv2d 1->32 3x3 on (128, 1, 28, 28) forward and
// forward+backward, max_pool2d 2x2 and batch_norm on (128, 32, 26, 26). Each benchmark first checks the fast
// path against the reference kernel once. Compare with torch_conv.py through run.sh.
#include <benchmark/benchmark.h>

#include <cmath>
#include <string>

#include "ember/ember.h"
#include "ember/kernels/conv.h"

using namespace ember;

namespace {

// Largest difference between two float tensors of the same size, relative to the largest reference magnitude
// (sums over 86k terms, as in the weight gradient, legitimately differ in the last bits between summation
// orders).
double max_rel_diff(const Tensor& a, const Tensor& b) {
  auto av = a.to_vector<float>(), bv = b.to_vector<float>();
  double worst = 0, scale = 1;
  for (size_t i = 0; i < av.size(); ++i) {
    worst = std::max(worst, std::abs(double(av[i]) - bv[i]));
    scale = std::max(scale, std::abs(double(bv[i])));
  }
  return worst / scale;
}

bool check(benchmark::State& state, double diff, const char* what) {
  if (diff <= 1e-4) return true;  // float sums of ~86k terms in both kernels
  state.SkipWithError((std::string(what) + ": fast path differs from the reference kernel by " +
                       std::to_string(diff) + " (relative)")
                          .c_str());
  return false;
}

kernels::Conv2dGeom mnist_conv_geom() {
  kernels::Conv2dGeom g;
  g.n = 128, g.c = 1, g.h = 28, g.w = 28, g.o = 32, g.kh = 3, g.kw = 3, g.oh = 26, g.ow = 26;
  return g;
}

void BM_Conv2dForward(benchmark::State& state) {
  Tensor x = randn({128, 1, 28, 28}), w = randn({32, 1, 3, 3}), b = randn({32});
  NoGradGuard ng;
  {
    Tensor ref = empty({128, 32, 26, 26});
    kernels::conv2d_forward_ref(mnist_conv_geom(), x.data<float>(), w.data<float>(), b.data<float>(),
                                ref.data<float>());
    if (!check(state, max_rel_diff(conv2d(x, w, b), ref), "conv2d forward")) return;
  }
  for (auto _ : state) {
    Tensor y = conv2d(x, w, b);
    benchmark::DoNotOptimize(y.raw_data());
  }
}

void BM_Conv2dForwardBackward(benchmark::State& state) {
  Tensor x = randn({128, 1, 28, 28});
  Tensor w = randn({32, 1, 3, 3}).requires_grad_(), b = randn({32}).requires_grad_();
  Tensor gy = randn({128, 32, 26, 26});
  {
    kernels::Conv2dGeom g = mnist_conv_geom();
    Tensor dw = empty({32, 1, 3, 3}), db = empty({32});
    kernels::conv2d_backward_weights_ref(g, x.data<float>(), gy.data<float>(), dw.data<float>(),
                                         db.data<float>());
    conv2d(x, w, b).backward(gy);
    if (!check(state, std::max(max_rel_diff(w.grad(), dw), max_rel_diff(b.grad(), db)), "conv2d backward"))
      return;
  }
  for (auto _ : state) {
    w.zero_grad();
    b.zero_grad();
    conv2d(x, w, b).backward(gy);
    benchmark::DoNotOptimize(w.grad().raw_data());
  }
}

// The second layer of a small CNN: 32 -> 64 channels, 3x3 on 13x13 (no reference check: covered by the
// tests).
void BM_Conv2dLayer2ForwardBackward(benchmark::State& state) {
  Tensor x = randn({128, 32, 13, 13});
  Tensor w = randn({64, 32, 3, 3}).requires_grad_(), b = randn({64}).requires_grad_();
  Tensor gy = randn({128, 64, 11, 11});
  for (auto _ : state) {
    w.zero_grad();
    b.zero_grad();
    conv2d(x, w, b).backward(gy);
    benchmark::DoNotOptimize(w.grad().raw_data());
  }
}

void BM_MaxPool2d(benchmark::State& state) {
  const bool backward = state.range(0) != 0;
  Tensor x = randn({128, 32, 26, 26});
  {
    kernels::Pool2dGeom g{128 * 32, 26, 26, 2, 2, 2, 2, 0, 0, 13, 13};
    std::vector<int32_t> arg(128 * 32 * 13 * 13);
    Tensor ref = empty({128, 32, 13, 13});
    kernels::max_pool2d_forward_ref<float>(g, x.data<float>(), ref.data<float>(), arg.data());
    NoGradGuard ng;
    if (!check(state, max_rel_diff(max_pool2d(x, {2, 2}), ref), "max_pool2d")) return;
  }
  Tensor gy = randn({128, 32, 13, 13});
  if (backward) x.requires_grad_();
  for (auto _ : state) {
    Tensor y = max_pool2d(x, {2, 2});
    if (backward) {
      x.zero_grad();
      y.backward(gy);
    }
    benchmark::DoNotOptimize(y.raw_data());
  }
}

void BM_BatchNorm(benchmark::State& state) {
  const bool backward = state.range(0) != 0;
  Tensor x = randn({128, 32, 26, 26});
  Tensor w = ones({32}), b = zeros({32}), rm = zeros({32}), rv = ones({32});
  {
    Tensor ref = empty(x.shape()), m = empty({32}), is = empty({32}), rm2 = clone(rm), rv2 = clone(rv);
    kernels::batch_norm_forward_ref<float>(128, 32, 676, x.data<float>(), w.data<float>(), b.data<float>(),
                                           ref.data<float>(), true, 0.1, 1e-5, rm2.data<float>(),
                                           rv2.data<float>(), m.data<float>(), is.data<float>());
    NoGradGuard ng;
    if (!check(state, max_rel_diff(batch_norm(x, w, b, clone(rm), clone(rv), true), ref), "batch_norm"))
      return;
  }
  Tensor gy = randn(x.shape());
  if (backward) {
    x.requires_grad_();
    w.requires_grad_();
    b.requires_grad_();
  }
  for (auto _ : state) {
    Tensor y = batch_norm(x, w, b, rm, rv, true);
    if (backward) {
      x.zero_grad();
      w.zero_grad();
      b.zero_grad();
      y.backward(gy);
    }
    benchmark::DoNotOptimize(y.raw_data());
  }
}

}  // namespace

BENCHMARK(BM_Conv2dForward)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Conv2dForwardBackward)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Conv2dLayer2ForwardBackward)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MaxPool2d)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_BatchNorm)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
