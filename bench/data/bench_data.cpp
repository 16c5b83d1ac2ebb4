// Data benchmarks: loading all 70,000 Fashion-MNIST images (gzip IDX -> float tensors) and DataLoader
// throughput for batch 128 with and without augmentation (items_per_second = samples/s). Needs the real data
// set.
#include <benchmark/benchmark.h>

#include <ctime>

#include "ember/data/data.h"

using namespace ember::data;

// CPU seconds of the whole process (all threads): on a shared machine, wall time overstates the cost.
static double process_cpu() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

static void BM_LoadFashionMnist(benchmark::State& state) {
  const double c0 = process_cpu();
  for (auto _ : state) {
    auto fm = load_fashion_mnist();
    benchmark::DoNotOptimize(fm.train->x().raw_data());
  }
  state.SetItemsProcessed(state.iterations() * 70000);
  state.counters["process_cpu_s_per_iter"] = (process_cpu() - c0) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_LoadFashionMnist)->Unit(benchmark::kMillisecond)->UseRealTime();

static void BM_Loader(benchmark::State& state) {
  static auto fm = load_fashion_mnist();
  DataLoaderOptions opt =
      DataLoaderOptions().batch_size(128).shuffle(true).seed(1).num_workers(static_cast<int>(state.range(1)));
  if (state.range(0)) opt.augment(compose({random_rotation(10), random_crop(2), horizontal_flip(0.5)}));
  DataLoader loader(fm.train, opt);
  int64_t samples = 0;
  const double c0 = process_cpu();
  for (auto _ : state) {
    for (const Batch& b : loader) {
      samples += b.x.size(0);
      benchmark::DoNotOptimize(b.x.raw_data());
    }
  }
  state.SetItemsProcessed(samples);
  state.counters["samples_per_process_cpu_s"] = static_cast<double>(samples) / (process_cpu() - c0);
}
// Args: (augment, workers)
BENCHMARK(BM_Loader)
    ->Args({0, 0})
    ->Args({0, 1})
    ->Args({1, 1})
    ->Args({1, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

BENCHMARK_MAIN();
