// Private to src/kernels/cpu: 3x3 stride-1 convolution by Winograd's minimal filtering F(4x4, 3x3)
// (conv_winograd.cpp), used by conv.cpp for the middle layers of image models (8+ input channels).
#pragma once

#include <cstdint>

#include "ember/kernels/conv.h"

namespace ember::kernels::conv_winograd {

// True when this build has the AVX2/FMA kernel, the geometry is one it handles (3x3 kernel, stride 1, no
// dilation, groups 1, paddings up to 2, 8+ input and output channels) and the kernel is enabled: it is unless
// EMBER_CONV_WINOGRAD=0 or EMBER_CONV_LAYOUT is set, and set_enabled (conv2d_set_winograd) switches it.
bool supported(const Conv2dGeom& g);
// The same without the switch: the backward of a layer whose forward ran here stays here.
bool handles(const Conv2dGeom& g);
bool set_enabled(bool on);  // returns the previous setting
// True when 4x4 tiles cover an h x w output plane without much waste (at most 1.6x its pixels); every pass
// tiles the layer's output plane. 11x11 and 13x13 do (1.19x, 1.51x); 3x3 (1.78x) and 5x5 (2.56x) measured
// no faster, or slower, than the other kernels.
bool fits(int64_t h, int64_t w);

void forward(const Conv2dGeom& g, const float* x, const float* w, const float* b, float* y, bool relu);
// The convolution followed by 2x2 stride-2 max pooling (floor) and, when relu, a ReLU, pooled inside the
// output transform: y and arg are (n, o, oh / 2, ow / 2), arg the argmax's window index (2 * row + column).
void forward_pool2(const Conv2dGeom& g, const float* x, const float* w, const float* b, bool relu, float* y,
                   uint8_t* arg);

// What the backward passes need to turn the gradient of a pooled output (forward_pool2) into the gradient of
// the convolution output as they read it: the argmax per pooled output and, after a ReLU, the pooled output
// (its gradient passes where it is > 0); relu_out is null without a ReLU.
struct Pool2Grad {
  const float* relu_out = nullptr;
  const uint8_t* arg = nullptr;
  Pool2Grad from(int64_t off) const { return {relu_out ? relu_out + off : nullptr, arg + off}; }
};
// With pool, dy is the gradient of the pooled output (n, o, oh / 2, ow / 2). backward computes dx (needs w)
// and / or dw (needs x; db may be null) in one pass over dy's tiles; null outputs are skipped.
void backward(const Conv2dGeom& g, const float* x, const float* dy, const float* w, float* dx, float* dw,
              float* db, const Pool2Grad* pool = nullptr);
void backward_data(const Conv2dGeom& g, const float* dy, const float* w, float* dx,
                   const Pool2Grad* pool = nullptr);
void backward_weights(const Conv2dGeom& g, const float* x, const float* dy, float* dw, float* db,
                      const Pool2Grad* pool = nullptr);

}  // namespace ember::kernels::conv_winograd
