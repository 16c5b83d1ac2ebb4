// The Ember side of the end-to-end benchmark (contract: bench/e2e/PROTOCOL.md; the PyTorch side is
// torch_e2e.py). Each workload is written the way an Ember user would write it: nn modules in a Sequential
// (or a small Module subclass), ember::cross_entropy, optim::SGD / optim::Adam over a ParameterArena,
// NoGradGuard + eval() for inference. One JSON line per workload on stdout; everything else on stderr.
//
//   ember_e2e --workload mlp_train,seed_cnn_train --threads 2 --reps 5 --tag ember
//   ember_e2e --list
//   ember_e2e --workload all --tiny          # smoke test: 2 steps, 2 reps, a small slice of the data

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "e2e_common.h"
#include "ember/ember.h"

#if __has_include("ember/nn/conv.h") && __has_include("ember/nn/pooling.h")
#include "ember/nn/conv.h"
#include "ember/nn/pooling.h"
#define EMBER_E2E_HAVE_CONV_MODULES 1
#endif
#if __has_include("ember/nn/rnn.h") && __has_include("ember/nn/embedding.h")
#include "ember/nn/embedding.h"
#include "ember/nn/rnn.h"
#define EMBER_E2E_HAVE_RNN 1
#endif
#if __has_include("ember/nn/transformer.h") && __has_include("ember/nn/embedding.h")
#include "ember/nn/embedding.h"
#include "ember/nn/transformer.h"
#define EMBER_E2E_HAVE_TRANSFORMER 1
#endif

namespace {

using ember::Tensor;
namespace nn = ember::nn;
namespace optim = ember::optim;

using e2e::kClasses, e2e::kSeqLstm, e2e::kSeqTf, e2e::kVocab, e2e::kFlops, e2e::kWorkloads, e2e::Workload;

// ---------------------------------------------------------------- models (shapes as in PROTOCOL.md)

#ifndef EMBER_E2E_HAVE_CONV_MODULES
// Stand-ins until nn::Conv2d / nn::MaxPool2d are on main: the same parameters and PyTorch initialisation,
// calling the functional ops.
class Conv2d : public nn::Module {
 public:
  Conv2d(int64_t in, int64_t out, int64_t k) : Module("Conv2d") {
    weight = register_parameter("weight", ember::empty({out, in, k, k}));
    bias = register_parameter("bias", ember::empty({out}));
    nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
    double bound = 1.0 / std::sqrt(static_cast<double>(in * k * k));
    nn::init::uniform_(bias, -bound, bound);
  }
  Tensor forward(const Tensor& x) override { return ember::conv2d(x, weight, bias); }
  Tensor weight, bias;
};
class MaxPool2d : public nn::Module {
 public:
  explicit MaxPool2d(int64_t k) : Module("MaxPool2d"), k_(k) {}
  Tensor forward(const Tensor& x) override { return ember::max_pool2d(x, {k_, k_}); }

 private:
  int64_t k_;
};
std::shared_ptr<nn::Module> conv(int64_t in, int64_t out, int64_t k) {
  return std::make_shared<Conv2d>(in, out, k);
}
std::shared_ptr<nn::Module> maxpool(int64_t k) {
  return std::make_shared<MaxPool2d>(k);
}
#else
std::shared_ptr<nn::Module> conv(int64_t in, int64_t out, int64_t k) {
  return std::make_shared<nn::Conv2d>(nn::Conv2dOptions(in, out, k));
}
std::shared_ptr<nn::Module> maxpool(int64_t k) {
  return std::make_shared<nn::MaxPool2d>(nn::MaxPool2dOptions(k));
}
#endif

std::shared_ptr<nn::Module> relu() {
  return std::make_shared<nn::ReLU>();
}
std::shared_ptr<nn::Module> flatten() {
  return std::make_shared<nn::Flatten>();
}
std::shared_ptr<nn::Module> linear(int64_t in, int64_t out) {
  return std::make_shared<nn::Linear>(in, out);
}

std::shared_ptr<nn::Module> mlp() {
  return std::make_shared<nn::Sequential>(flatten(), linear(784, 128), relu(), linear(128, 64), relu(),
                                          linear(64, 10));
}

std::shared_ptr<nn::Module> seed_cnn() {
  return std::make_shared<nn::Sequential>(conv(1, 32, 3), relu(), maxpool(2), flatten(), linear(5408, 128),
                                          relu(), linear(128, 10));
}

std::shared_ptr<nn::Module> keras_cnn() {
  return std::make_shared<nn::Sequential>(conv(1, 32, 3), relu(), maxpool(2), conv(32, 64, 3), relu(),
                                          maxpool(2), conv(64, 64, 3), relu(), flatten(), linear(576, 64),
                                          relu(), linear(64, 10));
}

#ifdef EMBER_E2E_HAVE_RNN
class LstmClassifier : public nn::Module {
 public:
  LstmClassifier() : Module("LstmClassifier") {
    emb_ = register_module("emb", std::make_shared<nn::Embedding>(nn::EmbeddingOptions(kVocab, 64)));
    lstm1_ = register_module("lstm1", std::make_shared<nn::LSTM>(nn::LSTMOptions(64, 64)));
    lstm2_ = register_module("lstm2", std::make_shared<nn::LSTM>(nn::LSTMOptions(64, 32)));
    fc_ = register_module("fc", std::make_shared<nn::Linear>(32, kClasses));
  }
  Tensor forward(const Tensor& x) override {
    Tensor h = lstm1_->forward(emb_->forward(x));
    return fc_->forward(nn::last_state(lstm2_->forward_with_state(h)));
  }

 private:
  std::shared_ptr<nn::Embedding> emb_;
  std::shared_ptr<nn::LSTM> lstm1_, lstm2_;
  std::shared_ptr<nn::Linear> fc_;
};
#endif

#ifdef EMBER_E2E_HAVE_TRANSFORMER
class TransformerClassifier : public nn::Module {
 public:
  TransformerClassifier() : Module("TransformerClassifier") {
    emb_ = register_module("emb", std::make_shared<nn::Embedding>(nn::EmbeddingOptions(kVocab, 128)));
    pos_ = register_parameter("pos", ember::normal({kSeqTf, 128}, 0.0, 0.02));
    enc_ = register_module(
        "enc", std::make_shared<nn::TransformerEncoder>(
                   nn::TransformerEncoderLayerOptions(128, 4).dim_feedforward(512).dropout(0.1), 2));
    fc_ = register_module("fc", std::make_shared<nn::Linear>(128, kClasses));
  }
  Tensor forward(const Tensor& x) override {
    Tensor h = enc_->forward(ember::add(emb_->forward(x), pos_));
    return fc_->forward(ember::mean(h, {1}));
  }

 private:
  std::shared_ptr<nn::Embedding> emb_;
  Tensor pos_;
  std::shared_ptr<nn::TransformerEncoder> enc_;
  std::shared_ptr<nn::Linear> fc_;
};
#endif

// A factory per model, or null when this build lacks the layers it needs.
std::function<std::shared_ptr<nn::Module>()> model_factory(const std::string& model) {
  if (model == "mlp") return mlp;
  if (model == "seed_cnn") return seed_cnn;
  if (model == "keras_cnn") return keras_cnn;
#ifdef EMBER_E2E_HAVE_RNN
  if (model == "lstm") return [] { return std::make_shared<LstmClassifier>(); };
#endif
#ifdef EMBER_E2E_HAVE_TRANSFORMER
  if (model == "transformer") return [] { return std::make_shared<TransformerClassifier>(); };
#endif
  return nullptr;
}

// ---------------------------------------------------------------- data

struct Data {
  Tensor x, y;
};

Data load_data(const std::string& kind, bool tiny) {
  if (kind == "fmnist") {
    const char* env = std::getenv("EMBER_FASHION_MNIST");
    std::string dir = env && *env ? env : "/usr/share/datasets/fashion-mnist";
    Tensor x = ember::data::read_idx_images(dir + "/train-images-idx3-ubyte.gz");
    Tensor y = ember::data::read_idx_labels(dir + "/train-labels-idx1-ubyte.gz");
    if (tiny) {
      x = ember::contiguous_data(ember::slice(x, 0, 0, 2048));
      y = ember::contiguous_data(ember::slice(y, 0, 0, 2048));
    }
    return {x, y};
  }
  int64_t seq = kind == "tokens100" ? kSeqLstm : kSeqTf;
  int64_t n = tiny ? 512 : 8192;
  ember::Generator gen(1);
  Tensor x = ember::randint(0, kVocab, {n, seq}, &gen);
  Tensor y = ember::randint(0, kClasses, {n}, &gen);
  return {x, y};
}

// ---------------------------------------------------------------- running

std::string run(const Workload& w, const e2e::Args& args) {
  ember::manual_seed(0);
  Data data = load_data(w.data, args.tiny);
  auto model = model_factory(w.model)();
  const int64_t n = data.x.size(0), batch = w.batch;
  const int64_t steps = e2e::steps_for(args, w.steps);
  std::vector<int64_t> starts;
  for (int64_t s = 0; s + batch <= n; s += batch) starts.push_back(s);
  size_t cursor = 0;
  auto next_batch = [&] {
    int64_t s = starts[cursor++ % starts.size()];
    return Data{ember::slice(data.x, 0, s, s + batch), ember::slice(data.y, 0, s, s + batch)};
  };

  std::optional<double> last_loss;
  std::function<void()> step;
  std::unique_ptr<optim::ParameterArena> arena;
  std::unique_ptr<optim::Optimizer> opt;
  if (w.kind == "train") {
    model->train();
    auto params = model->parameters();
    arena = std::make_unique<optim::ParameterArena>(params);
    if (w.optimizer == "sgd")
      opt = std::make_unique<optim::SGD>(params, optim::SGDOptions(0.01));
    else
      opt = std::make_unique<optim::Adam>(params, optim::AdamOptions(1e-3).betas(0.9, 0.999).eps(1e-8));
    step = [&] {
      Data b = next_batch();
      opt->zero_grad();
      Tensor loss = ember::cross_entropy(model->forward(b.x), b.y);
      loss.backward();
      opt->step();
      last_loss = loss.item();
    };
  } else {
    model->eval();
    step = [&] {
      Data b = next_batch();
      ember::NoGradGuard no_grad;
      Tensor out = model->forward(b.x);
      (void)out;
    };
  }

  e2e::Timing t = e2e::measure(w.kind, steps, batch, args, step);
  return e2e::result_line({"ember", "0.1.0", w.name, w.kind, ember::num_threads(), batch, steps,
                           kFlops.at(w.model) * (w.kind == "train" ? 3 : 1)},
                          args, t, last_loss);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> names;
  for (const auto& w : kWorkloads)
    if (model_factory(w.model)) names.push_back(w.name);
  e2e::Args args = e2e::parse_args(argc, argv, "ember_e2e", names);
  if (args.list) {
    for (const auto& name : names) std::printf("%s\n", name.c_str());
    return 0;
  }
  if (args.threads > 0) ember::set_num_threads(args.threads);
  for (const auto& name : args.workloads) {
    auto it =
        std::find_if(kWorkloads.begin(), kWorkloads.end(), [&](const Workload& w) { return w.name == name; });
    if (it == kWorkloads.end()) {
      std::fprintf(stderr, "ember_e2e: unknown workload '%s' (see --list)\n", name.c_str());
      return 2;
    }
    if (!model_factory(it->model)) {
      std::fprintf(stderr, "ember_e2e: workload '%s' needs layers this build does not have\n", name.c_str());
      return 3;
    }
    try {
      std::printf("%s\n", run(*it, args).c_str());
      std::fflush(stdout);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "ember_e2e: %s failed: %s\n", name.c_str(), e.what());
      return 1;
    }
  }
  return 0;
}
