// The LibTorch (C++) side of the end-to-end benchmark (contract: bench/e2e/PROTOCOL.md). Same command line
// and JSON lines as ember_e2e.cpp and torch_e2e.py, with "impl": "libtorch". It measures PyTorch without
// the Python interpreter in the way: the targets for batch-1 latency are stated against this side.
// Each workload is written the way a LibTorch user would write it: torch::nn modules (a Sequential or a
// small Module subclass), torch::nn::functional::cross_entropy, torch::optim::SGD / Adam, NoGradGuard +
// eval() for inference. One JSON line per workload on stdout; everything else on stderr. Never links Ember.
//
//   libtorch_e2e --workload mlp_infer_b1,seed_cnn_infer_b1 --threads 1 --reps 5 --tag best
//   libtorch_e2e --list
//   libtorch_e2e --workload all --tiny          # smoke test: 2 steps, 2 reps, a small slice of the data
#include <ATen/Parallel.h>
#include <torch/torch.h>
#include <torch/version.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "e2e_common.h"

namespace {

using torch::Tensor;
namespace tnn = torch::nn;

using e2e::kClasses, e2e::kSeqLstm, e2e::kSeqTf, e2e::kVocab, e2e::kFlops, e2e::kWorkloads, e2e::Workload;

// ---------------------------------------------------------------- models (shapes as in PROTOCOL.md)

// A model is its module (parameters, train()/eval()) and how to call it: Sequential and the custom modules
// below have different forward signatures, so the runner goes through this pair.
struct Model {
  std::shared_ptr<tnn::Module> module;
  std::function<Tensor(const Tensor&)> forward;
};

Model from_sequential(tnn::Sequential seq) {
  return {seq.ptr(), [seq](const Tensor& x) mutable { return seq->forward(x); }};
}

Model mlp() {
  return from_sequential(tnn::Sequential(tnn::Flatten(), tnn::Linear(784, 128), tnn::ReLU(),
                                         tnn::Linear(128, 64), tnn::ReLU(), tnn::Linear(64, 10)));
}

tnn::Conv2d conv(int64_t in, int64_t out, int64_t k) {
  return tnn::Conv2d(tnn::Conv2dOptions(in, out, k));
}
tnn::MaxPool2d maxpool(int64_t k) {
  return tnn::MaxPool2d(tnn::MaxPool2dOptions(k));
}

Model seed_cnn() {
  return from_sequential(tnn::Sequential(conv(1, 32, 3), tnn::ReLU(), maxpool(2), tnn::Flatten(),
                                         tnn::Linear(5408, 128), tnn::ReLU(), tnn::Linear(128, 10)));
}

Model keras_cnn() {
  return from_sequential(tnn::Sequential(
      conv(1, 32, 3), tnn::ReLU(), maxpool(2), conv(32, 64, 3), tnn::ReLU(), maxpool(2), conv(64, 64, 3),
      tnn::ReLU(), tnn::Flatten(), tnn::Linear(576, 64), tnn::ReLU(), tnn::Linear(64, 10)));
}

struct LstmClassifier : tnn::Module {
  LstmClassifier() {
    emb = register_module("emb", tnn::Embedding(tnn::EmbeddingOptions(kVocab, 64)));
    lstm1 = register_module("lstm1", tnn::LSTM(tnn::LSTMOptions(64, 64).batch_first(true)));
    lstm2 = register_module("lstm2", tnn::LSTM(tnn::LSTMOptions(64, 32).batch_first(true)));
    fc = register_module("fc", tnn::Linear(32, kClasses));
  }
  Tensor forward(const Tensor& x) {
    Tensor h = std::get<0>(lstm1->forward(emb->forward(x)));
    h = std::get<0>(lstm2->forward(h));
    return fc->forward(h.select(1, -1));  // last step, (N, 32)
  }
  tnn::Embedding emb{nullptr};
  tnn::LSTM lstm1{nullptr}, lstm2{nullptr};
  tnn::Linear fc{nullptr};
};

// LibTorch 1.13's C++ TransformerEncoderLayer is post-norm and sequence-first only (no batch_first option):
// the forward transposes (N, S, E) to (S, N, E) and averages over dim 0. Same parameters and FLOPs.
struct TransformerClassifier : tnn::Module {
  TransformerClassifier() {
    emb = register_module("emb", tnn::Embedding(tnn::EmbeddingOptions(kVocab, 128)));
    pos = register_parameter("pos", torch::randn({kSeqTf, 128}) * 0.02);
    enc = register_module(
        "enc", tnn::TransformerEncoder(tnn::TransformerEncoderOptions(
                   tnn::TransformerEncoderLayerOptions(128, 4).dim_feedforward(512).dropout(0.1), 2)));
    fc = register_module("fc", tnn::Linear(128, kClasses));
  }
  Tensor forward(const Tensor& x) {
    Tensor h = (emb->forward(x) + pos).transpose(0, 1);  // (S, N, E)
    return fc->forward(enc->forward(h).mean(0));
  }
  tnn::Embedding emb{nullptr};
  Tensor pos;
  tnn::TransformerEncoder enc{nullptr};
  tnn::Linear fc{nullptr};
};

template <class M>
Model from_module() {
  auto m = std::make_shared<M>();
  return {m, [m](const Tensor& x) { return m->forward(x); }};
}

std::function<Model()> model_factory(const std::string& model) {
  if (model == "mlp") return mlp;
  if (model == "seed_cnn") return seed_cnn;
  if (model == "keras_cnn") return keras_cnn;
  if (model == "lstm") return from_module<LstmClassifier>;
  if (model == "transformer") return from_module<TransformerClassifier>;
  return nullptr;
}

// ---------------------------------------------------------------- data

// Reads a gzip-compressed IDX file (big-endian header: 0, 0, type 0x08 = ubyte, ndim, then ndim uint32
// sizes) into a uint8 tensor of that shape, keeping at most `limit` items along the first dimension.
Tensor read_idx_u8(const std::string& path, int64_t limit) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot open " + path);
  auto read_exact = [&](void* dst, size_t n) {
    auto* p = static_cast<unsigned char*>(dst);
    while (n > 0) {
      unsigned chunk = static_cast<unsigned>(std::min<size_t>(n, 1u << 30));
      int got = gzread(f, p, chunk);
      if (got <= 0) {
        gzclose(f);
        throw std::runtime_error("short read in " + path);
      }
      p += got;
      n -= static_cast<size_t>(got);
    }
  };
  unsigned char magic[4];
  read_exact(magic, 4);
  if (magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 || magic[3] == 0) {
    gzclose(f);
    throw std::runtime_error(path + ": not a ubyte IDX file");
  }
  std::vector<int64_t> shape(magic[3]);
  for (auto& d : shape) {
    unsigned char b[4];
    read_exact(b, 4);
    d = (int64_t{b[0]} << 24) | (int64_t{b[1]} << 16) | (int64_t{b[2]} << 8) | int64_t{b[3]};
  }
  shape[0] = std::min(shape[0], limit);
  Tensor t = torch::empty(shape, torch::kUInt8);
  read_exact(t.data_ptr<uint8_t>(), static_cast<size_t>(t.numel()));
  gzclose(f);
  return t;
}

struct Data {
  Tensor x, y;
};

Data load_data(const std::string& kind, bool tiny) {
  if (kind == "fmnist") {
    const char* env = std::getenv("EMBER_FASHION_MNIST");
    std::string dir = env && *env ? env : "/usr/share/datasets/fashion-mnist";
    int64_t limit = tiny ? 2048 : 60000;
    Tensor x = read_idx_u8(dir + "/train-images-idx3-ubyte.gz", limit);
    Tensor y = read_idx_u8(dir + "/train-labels-idx1-ubyte.gz", limit);
    x = x.to(torch::kFloat32).div_(255.0f).reshape({-1, 1, 28, 28}).contiguous();
    return {x, y.to(torch::kInt64)};
  }
  int64_t seq = kind == "tokens100" ? kSeqLstm : kSeqTf;
  int64_t n = tiny ? 512 : 8192;
  torch::manual_seed(1);
  Tensor x = torch::randint(0, kVocab, {n, seq}, torch::kInt64);
  Tensor y = torch::randint(0, kClasses, {n}, torch::kInt64);
  return {x, y};
}

// ---------------------------------------------------------------- running

std::string run(const Workload& w, const e2e::Args& args) {
  Data data = load_data(w.data, args.tiny);
  torch::manual_seed(0);
  Model model = model_factory(w.model)();
  const int64_t n = data.x.size(0), batch = w.batch;
  const int64_t steps = e2e::steps_for(args, w.steps);
  std::vector<int64_t> starts;
  for (int64_t s = 0; s + batch <= n; s += batch) starts.push_back(s);
  size_t cursor = 0;
  auto next_batch = [&] {
    int64_t s = starts[cursor++ % starts.size()];
    return Data{data.x.slice(0, s, s + batch), data.y.slice(0, s, s + batch)};
  };

  std::optional<double> last_loss;
  std::function<void()> step;
  std::unique_ptr<torch::optim::Optimizer> opt;
  if (w.kind == "train") {
    model.module->train();
    auto params = model.module->parameters();
    if (w.optimizer == "sgd")
      opt = std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(0.01));
    else
      opt = std::make_unique<torch::optim::Adam>(
          params, torch::optim::AdamOptions(1e-3).betas({0.9, 0.999}).eps(1e-8).weight_decay(0));
    step = [&] {
      Data b = next_batch();
      opt->zero_grad();  // LibTorch 1.13: zeroes in place (Python's set_to_none is not in the C++ API yet)
      Tensor loss = tnn::functional::cross_entropy(model.forward(b.x), b.y);
      loss.backward();
      opt->step();
      last_loss = loss.item<double>();
    };
  } else {
    model.module->eval();
    step = [&] {
      Data b = next_batch();
      torch::NoGradGuard no_grad;
      Tensor out = model.forward(b.x);
      (void)out;
    };
  }

  e2e::Timing t = e2e::measure(w.kind, steps, batch, args, step);
  return e2e::result_line({"libtorch", TORCH_VERSION, w.name, w.kind, at::get_num_threads(), batch, steps,
                           kFlops.at(w.model) * (w.kind == "train" ? 3 : 1)},
                          args, t, last_loss);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> names;
  for (const auto& w : kWorkloads) names.push_back(w.name);
  e2e::Args args = e2e::parse_args(argc, argv, "libtorch_e2e", names);
  if (args.list) {
    for (const auto& name : names) std::printf("%s\n", name.c_str());
    return 0;
  }
  // One inter-op thread: every workload is a single chain of ops, and an idle inter-op pool only adds
  // threads competing for the 2 cores. Must come before any parallel work.
  at::set_num_interop_threads(1);
  if (args.threads > 0) at::set_num_threads(args.threads);
  for (const auto& name : args.workloads) {
    auto it =
        std::find_if(kWorkloads.begin(), kWorkloads.end(), [&](const Workload& w) { return w.name == name; });
    if (it == kWorkloads.end()) {
      std::fprintf(stderr, "libtorch_e2e: unknown workload '%s' (see --list)\n", name.c_str());
      return 2;
    }
    try {
      std::printf("%s\n", run(*it, args).c_str());
      std::fflush(stdout);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "libtorch_e2e: %s failed: %s\n", name.c_str(), e.what());
      return 1;
    }
  }
  return 0;
}
