// Kernels behind the conv/pool/norm/embedding ops: raw loops and oneDNN calls over contiguous row-major
// buffers, no autograd. The fast versions (src/kernels/cpu/conv.cpp, pool_norm.cpp) run float32 through
// oneDNN or vectorised parallel loops; the readable reference versions (src/kernels/ref/) are the oracle in
// tests and benchmarks, and the float64 path.
//
//   kernels::Conv2dGeom g = ...;  // NCHW input, (O, I/groups, kh, kw) weight
//   kernels::conv2d_forward(g, x, w, b, y, /*relu=*/false);
#pragma once

#include <cstdint>

namespace ember::kernels {

// Geometry of one 2-D convolution; pad_* may differ (asymmetric "same" padding). oh/ow are derived.
struct Conv2dGeom {
  int64_t n = 1, c = 1, h = 1, w = 1;  // input
  int64_t o = 1, kh = 1, kw = 1;       // output channels, kernel
  int64_t sh = 1, sw = 1;              // stride
  int64_t pt = 0, pb = 0, pl = 0, pr = 0;
  int64_t dh = 1, dw = 1;  // dilation (1 = dense)
  int64_t groups = 1;
  int64_t oh = 1, ow = 1;
};

// ---- fast (oneDNN, float32); primitives cached by geometry, scratch buffers reused ----
// b may be null. relu fuses max(0, .) into the output.
void conv2d_forward(const Conv2dGeom& g, const float* x, const float* w, const float* b, float* y, bool relu);
void conv2d_backward_data(const Conv2dGeom& g, const float* dy, const float* w, float* dx);
// db may be null.
void conv2d_backward_weights(const Conv2dGeom& g, const float* x, const float* dy, float* dw, float* db);

// 3x3 stride-1 layers with 8+ channels run on Winograd F(4x4, 3x3) kernels (conv_winograd.cpp) unless
// EMBER_CONV_WINOGRAD=0; this switches them at run time (tests and benchmarks compare both paths) and returns
// the previous setting.
bool conv2d_set_winograd(bool on);
enum class ConvPass { Forward, BackwardData, BackwardWeights };
bool conv2d_takes_winograd(const Conv2dGeom& g, ConvPass pass);

// ---- direct AVX2 kernels for 1-4 input channels, stride 1, no dilation, one group (conv_direct.cpp) ----
// conv2d_forward / conv2d_backward_weights use them when conv2d_direct_supported(g); the *_direct calls
// return false (and do nothing) for other geometries. relu_out (may be null) is the output of a fused ReLU:
// the output gradient is masked by relu_out > 0 on the fly.
bool conv2d_direct_supported(const Conv2dGeom& g);
bool conv2d_forward_direct(const Conv2dGeom& g, const float* x, const float* w, const float* b, float* y,
                           bool relu);
bool conv2d_backward_weights_direct(const Conv2dGeom& g, const float* x, const float* dy,
                                    const float* relu_out, float* dw, float* db);
// The same convolution followed by 2x2 stride-2 max pooling (floor) and, when relu, a ReLU: y and arg are
// (n, o, oh / 2, ow / 2); arg holds each window's argmax as 2 * row + column. The convolution output stays in
// cache. The backward computes the weight (and bias, db may be null) gradient from the pooled output gradient
// dy, masked by relu_out > 0 when relu_out (the pooled output) is given. Both return false for geometries the
// direct kernel does not handle or an output smaller than 2x2.
bool conv2d_pool2_forward_direct(const Conv2dGeom& g, const float* x, const float* w, const float* b,
                                 bool relu, float* y, uint8_t* arg);
bool conv2d_pool2_backward_weights_direct(const Conv2dGeom& g, const float* x, const float* dy,
                                          const float* relu_out, const uint8_t* arg, float* dw, float* db);

// The same fused convolution + 2x2 max pooling (+ ReLU), with the same y and arg, on the Winograd kernels
// (3x3 stride-1 layers with 8+ channels whose output plane conv2d_takes_winograd, at least 2x2): the output
// transform pools each 4x4 tile, and the backward passes read the convolution's output gradient unpooled from
// dy (the pooled gradient, masked by relu_out > 0 when relu_out is given) as they transform it. The backward
// computes dx and dw (with db, which may be null) when they are not null, whatever conv2d_set_winograd says
// by then. All return false for other geometries.
bool conv2d_pool2_winograd_supported(const Conv2dGeom& g);
bool conv2d_pool2_forward_winograd(const Conv2dGeom& g, const float* x, const float* w, const float* b,
                                   bool relu, float* y, uint8_t* arg);
bool conv2d_pool2_backward_winograd(const Conv2dGeom& g, const float* x, const float* w, const float* dy,
                                    const float* relu_out, const uint8_t* arg, float* dx, float* dw,
                                    float* db);

// ---- reference (direct loops), float and double ----
template <typename T>
void conv2d_forward_ref(const Conv2dGeom& g, const T* x, const T* w, const T* b, T* y);
template <typename T>
void conv2d_backward_data_ref(const Conv2dGeom& g, const T* dy, const T* w, T* dx);
template <typename T>
void conv2d_backward_weights_ref(const Conv2dGeom& g, const T* x, const T* dy, T* dw, T* db);

// ---- pooling over (planes, h, w) with planes = N*C ----
struct Pool2dGeom {
  int64_t planes = 1, h = 1, w = 1;
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0;
  int64_t oh = 1, ow = 1;
};
// Max pooling; argmax (may be null when no gradient is needed) receives the flat h*w index inside the plane
// of each output's maximum (first on ties; NaN wins like PyTorch). int32 halves the memory traffic of the
// index write, which dominates this memory-bound kernel.
template <typename T>
void max_pool2d_forward(const Pool2dGeom& g, const T* x, T* y, int32_t* argmax);
template <typename T>
void max_pool2d_forward_ref(const Pool2dGeom& g, const T* x, T* y, int32_t* argmax);
// dx (zeroed here) receives dy at each output's argmax.
template <typename T>
void max_pool2d_backward(const Pool2dGeom& g, const T* dy, const int32_t* argmax, T* dx);
// Average pooling with PyTorch's divisor rule (count_include_pad counts padding inside [-p, h+p)).
template <typename T>
void avg_pool2d_forward(const Pool2dGeom& g, bool count_include_pad, const T* x, T* y);
template <typename T>
void avg_pool2d_backward(const Pool2dGeom& g, bool count_include_pad, const T* dy, T* dx);
// Adaptive average pooling: output cell i covers [floor(i*h/oh), ceil((i+1)*h/oh)).
template <typename T>
void adaptive_avg_pool2d_forward(const Pool2dGeom& g, const T* x, T* y);
template <typename T>
void adaptive_avg_pool2d_backward(const Pool2dGeom& g, const T* dy, T* dx);

// ---- batch norm over x viewed as (n, c, s), s = H*W (1 for 2-D input) ----
// Training: batch statistics into mean/invstd (invstd = 1/sqrt(biased var + eps)); running stats (may be
// null) updated with momentum using the unbiased variance. Eval: mean/invstd computed from running stats.
template <typename T>
void batch_norm_forward(int64_t n, int64_t c, int64_t s, const T* x, const T* w, const T* b, T* y,
                        bool training, double momentum, double eps, T* running_mean, T* running_var, T* mean,
                        T* invstd);
template <typename T>
void batch_norm_forward_ref(int64_t n, int64_t c, int64_t s, const T* x, const T* w, const T* b, T* y,
                            bool training, double momentum, double eps, T* running_mean, T* running_var,
                            T* mean, T* invstd);
// dx may be null; dw/db may be null. training selects the batch-statistics gradient.
template <typename T>
void batch_norm_backward(int64_t n, int64_t c, int64_t s, const T* x, const T* dy, const T* w, const T* mean,
                         const T* invstd, bool training, T* dx, T* dw, T* db);
template <typename T>
void batch_norm_backward_ref(int64_t n, int64_t c, int64_t s, const T* x, const T* dy, const T* w,
                             const T* mean, const T* invstd, bool training, T* dx, T* dw, T* db);

// ---- layer norm over rows of length d ----
template <typename T>
void layer_norm_forward(int64_t rows, int64_t d, const T* x, const T* w, const T* b, double eps, T* y,
                        T* mean, T* rstd);
template <typename T>
void layer_norm_backward(int64_t rows, int64_t d, const T* x, const T* dy, const T* w, const T* mean,
                         const T* rstd, T* dx, T* dw, T* db);

}  // namespace ember::kernels
