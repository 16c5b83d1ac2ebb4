// Parameter initialisers, PyTorch's torch.nn.init: each fills a tensor in place (no autograd) and draws from
// `gen`, or from the global generator (ember::manual_seed) when null.
//
//   namespace init = ember::nn::init;
//   init::kaiming_uniform_(linear->weight, std::sqrt(5.0));   // what Linear does by default
//   init::xavier_normal_(w, init::calculate_gain("tanh"));
//   init::orthogonal_(rnn_w, 1.0, &gen);
#pragma once

#include <string>
#include <utility>

#include "ember/core/random.h"
#include "ember/core/tensor.h"

namespace ember::nn::init {

enum class FanMode { FanIn, FanOut };

// The recommended gain for a nonlinearity: "linear"/"identity"/"conv1d"/"conv2d"/"conv3d"/"sigmoid" -> 1,
// "tanh" -> 5/3, "relu" -> sqrt(2), "leaky_relu" -> sqrt(2 / (1 + param^2)) (param defaults to 0.01),
// "selu" -> 3/4. Other names throw ValueError.
double calculate_gain(const std::string& nonlinearity, double param = 0.01);
// (fan_in, fan_out) of a weight of at least 2 dimensions: (size(1) * receptive, size(0) * receptive), where
// receptive is the product of the dimensions after the first two.
std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& t);

Tensor uniform_(Tensor t, double low = 0.0, double high = 1.0, Generator* gen = nullptr);
Tensor normal_(Tensor t, double mean = 0.0, double std = 1.0, Generator* gen = nullptr);
Tensor constant_(Tensor t, double value);
Tensor zeros_(Tensor t);
Tensor ones_(Tensor t);
// U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)).
Tensor xavier_uniform_(Tensor t, double gain = 1.0, Generator* gen = nullptr);
// N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)).
Tensor xavier_normal_(Tensor t, double gain = 1.0, Generator* gen = nullptr);
// U(-b, b) with b = gain * sqrt(3 / fan), gain = calculate_gain(nonlinearity, a).
Tensor kaiming_uniform_(Tensor t, double a = 0.0, FanMode mode = FanMode::FanIn,
                        const std::string& nonlinearity = "leaky_relu", Generator* gen = nullptr);
// N(0, std^2) with std = gain / sqrt(fan).
Tensor kaiming_normal_(Tensor t, double a = 0.0, FanMode mode = FanMode::FanIn,
                       const std::string& nonlinearity = "leaky_relu", Generator* gen = nullptr);
// A (semi-)orthogonal matrix from the QR decomposition (Householder, in double) of a normal matrix, times
// gain. t is viewed as (size(0), numel / size(0)).
Tensor orthogonal_(Tensor t, double gain = 1.0, Generator* gen = nullptr);

}  // namespace ember::nn::init
