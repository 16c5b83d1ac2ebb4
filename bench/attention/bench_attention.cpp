// The attention seed workloads: MultiheadAttention(d=128, 4 heads) self-attention on (32, 64, 128) forward
// and forward+backward, TransformerEncoderLayer(128, 4, ff 512, dropout 0) forward+backward, and the bare
// fused scaled_dot_product_attention on (32, 4, 64, 32). Before timing, the fused op is checked once against
// the composite of matmul/softmax (the readable reference). Compare with torch_attention.py through run.sh.
#include <benchmark/benchmark.h>

#include <cmath>
#include <string>

#include "ember/ember.h"
#include "ember/nn/nn.h"
#include "ember/ops/attention.h"

using namespace ember;
namespace nn = ember::nn;

namespace {

constexpr int64_t kN = 32, kT = 64, kD = 128, kH = 4;

bool check_fused(benchmark::State& state, const Tensor& q, const Tensor& k, const Tensor& v) {
  NoGradGuard ng;
  Tensor fused = scaled_dot_product_attention(q, k, v);
  Tensor ref =
      matmul(softmax(matmul(q, transpose(k, -1, -2)) * (1.0 / std::sqrt(double(q.size(-1)))), -1), v);
  auto a = fused.to_vector<float>(), b = ref.to_vector<float>();
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(double(a[i]) - b[i]));
  if (worst <= 1e-4) return true;
  state.SkipWithError(("fused attention differs from the composite by " + std::to_string(worst)).c_str());
  return false;
}

void BM_SdpaForwardBackward(benchmark::State& state) {
  Tensor q = randn({kN, kH, kT, kD / kH}).requires_grad_(), k = randn({kN, kH, kT, kD / kH}).requires_grad_();
  Tensor v = randn({kN, kH, kT, kD / kH}).requires_grad_();
  Tensor g = randn({kN, kH, kT, kD / kH});
  if (!check_fused(state, q, k, v)) return;
  for (auto _ : state) {
    q.zero_grad(), k.zero_grad(), v.zero_grad();
    scaled_dot_product_attention(q, k, v).backward(g);
    benchmark::DoNotOptimize(q.grad().raw_data());
  }
}

void BM_MHAForward(benchmark::State& state) {
  nn::MultiheadAttention m(nn::MultiheadAttentionOptions(kD, kH));
  Tensor x = randn({kN, kT, kD});
  NoGradGuard ng;
  for (auto _ : state) {
    Tensor y = m.forward(x);
    benchmark::DoNotOptimize(y.raw_data());
  }
}

void BM_MHAForwardBackward(benchmark::State& state) {
  nn::MultiheadAttention m(nn::MultiheadAttentionOptions(kD, kH));
  Tensor x = randn({kN, kT, kD}).requires_grad_();
  Tensor g = randn({kN, kT, kD});
  for (auto _ : state) {
    m.zero_grad();
    x.zero_grad();
    m.forward(x).backward(g);
    benchmark::DoNotOptimize(x.grad().raw_data());
  }
}

void BM_EncoderLayerForwardBackward(benchmark::State& state) {
  nn::TransformerEncoderLayer m(nn::TransformerEncoderLayerOptions(kD, kH).dim_feedforward(512).dropout(0));
  Tensor x = randn({kN, kT, kD}).requires_grad_();
  Tensor g = randn({kN, kT, kD});
  for (auto _ : state) {
    m.zero_grad();
    x.zero_grad();
    m.forward(x).backward(g);
    benchmark::DoNotOptimize(x.grad().raw_data());
  }
}

}  // namespace

BENCHMARK(BM_SdpaForwardBackward)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MHAForward)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MHAForwardBackward)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_EncoderLayerForwardBackward)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_MAIN();
