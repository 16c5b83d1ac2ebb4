// Image and sequence ops: 2-D convolution, pooling, batch/layer normalisation and embedding lookup, each with
// a fused backward. Images are NCHW, sequences (N, T, C). float32 runs on oneDNN / vectorised kernels,
// float64 on the reference kernels (src/kernels/ref).
//
//   auto y = ember::conv2d(x, w, b, {.stride = {2, 2}, .padding = ember::Padding::Same});
//   auto p = ember::max_pool2d(ember::relu(y), {2, 2});
//   auto z = ember::batch_norm(p, gamma, beta, running_mean, running_var, /*training=*/true);
//   auto e = ember::embedding(table, token_ids);   // (V, D) gathered by int64 ids of any shape
#pragma once

#include <array>
#include <optional>

#include "ember/ops/ops.h"

namespace ember {

using Pair = std::array<int64_t, 2>;

// "same" pads so that out = ceil(in / stride) (the extra pixel of an odd total goes bottom/right, like
// PyTorch and Keras); "valid" pads nothing.
enum class Padding { Same, Valid };

// Either an explicit (top/bottom, left/right) pair or a mode.
struct Padding2d {
  Padding2d(int64_t p = 0) : h(p), w(p) {}  // NOLINT: implicit on purpose
  Padding2d(int64_t ph, int64_t pw) : h(ph), w(pw) {}
  Padding2d(Pair p) : h(p[0]), w(p[1]) {}                  // NOLINT
  Padding2d(Padding m) : mode(m), explicit_pair(false) {}  // NOLINT
  int64_t h = 0, w = 0;
  Padding mode = Padding::Valid;
  bool explicit_pair = true;
};

struct Conv2dParams {
  Pair stride{1, 1};
  Padding2d padding{};
  Pair dilation{1, 1};
  int64_t groups = 1;
};

// x (N, C, H, W), weight (O, C/groups, kh, kw), bias (O) or undefined -> (N, O, OH, OW).
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
              const Conv2dParams& p = {});
// relu(conv2d(...)) with the ReLU fused into the convolution's output (oneDNN post-op).
Tensor conv2d_relu(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
                   const Conv2dParams& p = {});
// max_pool2d(relu(conv2d(x, weight, bias, p)), 2) (relu optional) as one op. For float32 images with 1-4
// channels (stride 1, no dilation, one group) whose input needs no gradient (the first layer of a model), and
// for float32 3x3 stride-1 layers with 8+ channels on the Winograd kernels (kernels::conv2d_takes_winograd),
// the convolution output is pooled while still in cache and never written to memory (the Winograd backward
// reads the unpooled gradient straight from the pooled one); otherwise the three ops run one after another.
// nn::Sequential uses it for Conv2d [ReLU] MaxPool2d(2).
Tensor conv2d_maxpool2(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dParams& p,
                       bool relu);

// Max pooling over (N, C, H, W); stride defaults to the kernel; padding <= kernel/2 (implicit -inf);
// ceil_mode rounds the output size up like PyTorch. The gradient goes to each window's argmax.
Tensor max_pool2d(const Tensor& x, Pair kernel, std::optional<Pair> stride = std::nullopt,
                  Pair padding = {0, 0}, bool ceil_mode = false);
// Average pooling; count_include_pad counts zero padding in the divisor (PyTorch's default).
Tensor avg_pool2d(const Tensor& x, Pair kernel, std::optional<Pair> stride = std::nullopt,
                  Pair padding = {0, 0}, bool ceil_mode = false, bool count_include_pad = true);
// Average pooling to a fixed output size (out = {1, 1}: global average pooling, shape (N, C, 1, 1)).
Tensor adaptive_avg_pool2d(const Tensor& x, Pair out_hw);
// (N, T, C) -> (N, C): mean over time (Keras GlobalAveragePooling1D).
Tensor global_avg_pool1d(const Tensor& x);

// Batch normalisation of (N, C) or (N, C, H, W) per channel. training: batch statistics normalise (biased
// variance) and running_mean/running_var (if defined) are updated in place with
// r = (1 - momentum) * r + momentum * stat (unbiased variance), like PyTorch; otherwise the running
// statistics normalise. weight/bias may be undefined (no affine transform).
Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double momentum = 0.1, double eps = 1e-5);
// Normalises over the trailing dimensions `normalized_shape`, then * weight + bias (each of that shape, or
// undefined).
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight = Tensor(),
                  const Tensor& bias = Tensor(), double eps = 1e-5);

// Rows of weight (V, D) picked by int64 `indices` of any shape -> indices.shape + (D,). The gradient
// scatter-adds into weight, except row padding_idx (negative counts from V). Throws IndexError for an index
// outside [0, V).
Tensor embedding(const Tensor& weight, const Tensor& indices,
                 std::optional<int64_t> padding_idx = std::nullopt);

}  // namespace ember
