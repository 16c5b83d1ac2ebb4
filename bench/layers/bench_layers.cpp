// nn-module workloads: nn::Conv2d(1 -> 32, 3x3) on (128, 1, 28, 28) forward and forward+backward, and
// nn::ResidualBlock(64, 64) on (32, 64, 16, 16) forward and forward+backward in training mode. Compare with
// torch_layers.py through run.sh.
#include <benchmark/benchmark.h>

#include "ember/ember.h"

using namespace ember;
namespace nn = ember::nn;

namespace {

void BM_Conv2dModuleForward(benchmark::State& state) {
  manual_seed(0);
  nn::Conv2d conv(nn::Conv2dOptions(1, 32, 3));
  Tensor x = randn({128, 1, 28, 28});
  NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(conv.forward(x));
}
BENCHMARK(BM_Conv2dModuleForward)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Conv2dModuleForwardBackward(benchmark::State& state) {
  manual_seed(0);
  nn::Conv2d conv(nn::Conv2dOptions(1, 32, 3));
  Tensor x = randn({128, 1, 28, 28});
  Tensor gy = randn({128, 32, 26, 26});
  for (auto _ : state) {
    conv.zero_grad();
    conv.forward(x).backward(gy);
  }
}
BENCHMARK(BM_Conv2dModuleForwardBackward)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ResidualBlockForward(benchmark::State& state) {
  manual_seed(0);
  nn::ResidualBlock block(nn::ResidualBlockOptions(64, 64));
  Tensor x = randn({32, 64, 16, 16});
  NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(block.forward(x));
}
BENCHMARK(BM_ResidualBlockForward)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ResidualBlockForwardBackward(benchmark::State& state) {
  manual_seed(0);
  nn::ResidualBlock block(nn::ResidualBlockOptions(64, 64));
  Tensor x = randn({32, 64, 16, 16}).requires_grad_();
  Tensor gy = randn({32, 64, 16, 16});
  for (auto _ : state) {
    block.zero_grad();
    x.zero_grad();
    block.forward(x).backward(gy);
  }
}
BENCHMARK(BM_ResidualBlockForwardBackward)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
