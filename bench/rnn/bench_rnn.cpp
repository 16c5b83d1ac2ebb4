// The recurrent seed workloads: nn::LSTM(64 -> 64) and nn::GRU(64 -> 64) on x (64, 100, 64), batch-first,
// forward (no graph) and forward + backward (output gradient given, all parameter and input gradients). Each
// benchmark first checks the fast kernels against the reference ones once. Compare with torch_rnn.py through
// run.sh.
#include <benchmark/benchmark.h>

#include <cmath>
#include <memory>
#include <string>

#include "ember/ember.h"
#include "ember/kernels/rnn.h"
#include "ember/nn/rnn.h"

using namespace ember;

namespace {

constexpr int64_t kBatch = 64, kSteps = 100, kInput = 64, kHidden = 64;

std::shared_ptr<nn::RNNBase> make(bool lstm) {
  if (lstm) return std::make_shared<nn::LSTM>(kInput, kHidden);
  return std::make_shared<nn::GRU>(kInput, kHidden);
}

// The module's forward (one layer, one direction) against the reference kernel, relative to the largest
// value.
bool check_against_ref(benchmark::State& state, nn::RNNBase& m, bool lstm, const Tensor& x) {
  NoGradGuard ng;
  nn::RNNOutput r = m.forward_with_state(x);
  const auto mode = lstm ? kernels::RnnMode::Lstm : kernels::RnnMode::Gru;
  Tensor h0 = zeros({kBatch, kHidden}), c0 = zeros({kBatch, kHidden});
  Tensor out = empty({kBatch, kSteps, kHidden}), hn = empty({kBatch, kHidden}), cn = empty({kBatch, kHidden});
  Tensor gates = empty({kBatch * kSteps * kernels::rnn_gates_per_step(mode, kHidden)});
  Tensor cells = empty({kBatch * kSteps * kernels::rnn_cells_per_step(mode, kHidden)});
  kernels::RnnLayerArgs<float> a{mode,
                                 kBatch,
                                 kSteps,
                                 kInput,
                                 kHidden,
                                 false,
                                 x.data<float>(),
                                 h0.data<float>(),
                                 c0.data<float>(),
                                 m.weight_ih(0).data<float>(),
                                 m.weight_hh(0).data<float>(),
                                 m.bias_ih(0).data<float>(),
                                 m.bias_hh(0).data<float>()};
  kernels::ref::rnn_layer_forward(a, out.data<float>(), hn.data<float>(), cn.data<float>(),
                                  gates.data<float>(), cells.data<float>());
  auto fv = r.output.to_vector<float>(), rv = out.to_vector<float>();
  double worst = 0;
  for (size_t i = 0; i < fv.size(); ++i) worst = std::max(worst, std::abs(double(fv[i]) - rv[i]));
  if (worst <= 1e-5) return true;
  state.SkipWithError(("fast rnn kernel differs from the reference by " + std::to_string(worst)).c_str());
  return false;
}

void BM_RnnForward(benchmark::State& state, bool lstm) {
  manual_seed(0);
  auto m = make(lstm);
  Tensor x = randn({kBatch, kSteps, kInput});
  if (!check_against_ref(state, *m, lstm, x)) return;
  NoGradGuard ng;
  for (auto _ : state) {
    Tensor y = m->forward(x);
    benchmark::DoNotOptimize(y.raw_data());
  }
}

void BM_RnnForwardBackward(benchmark::State& state, bool lstm) {
  manual_seed(0);
  auto m = make(lstm);
  Tensor x = randn({kBatch, kSteps, kInput});
  if (!check_against_ref(state, *m, lstm, x)) return;
  x.requires_grad_();
  Tensor gy = randn({kBatch, kSteps, kHidden});
  for (auto _ : state) {
    m->zero_grad();
    x.zero_grad();
    Tensor y = m->forward(x);
    y.backward(gy);
    benchmark::DoNotOptimize(m->weight_hh(0).grad().raw_data());
  }
}

void BM_LSTMForward(benchmark::State& s) {
  BM_RnnForward(s, true);
}
void BM_LSTMForwardBackward(benchmark::State& s) {
  BM_RnnForwardBackward(s, true);
}
void BM_GRUForward(benchmark::State& s) {
  BM_RnnForward(s, false);
}
void BM_GRUForwardBackward(benchmark::State& s) {
  BM_RnnForwardBackward(s, false);
}

}  // namespace

BENCHMARK(BM_LSTMForward)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_LSTMForwardBackward)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GRUForward)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GRUForwardBackward)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
