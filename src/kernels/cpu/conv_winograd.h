// Private to src/kernels/cpu: 3x3 stride-1 convolution by Winograd's minimal filtering F(4x4, 3x3)
// (conv_winograd.cpp), used by conv.cpp for the middle layers of image models (8+ input channels).
#pragma once

#include "ember/kernels/conv.h"

namespace ember::kernels::conv_winograd {

// True when this build has the AVX2/FMA kernel, the geometry is one it handles (3x3 kernel, stride 1, no
// dilation, groups 1, paddings up to 2, 8+ input and output channels) and the kernel is enabled: it is unless
// EMBER_CONV_WINOGRAD=0 or EMBER_CONV_LAYOUT is set, and set_enabled (conv2d_set_winograd) switches it.
bool supported(const Conv2dGeom& g);
bool set_enabled(bool on);  // returns the previous setting
// True when 4x4 tiles cover an h x w output plane without much waste (at most 1.6x its pixels); every pass
// tiles the layer's output plane. 11x11 and 13x13 do (1.19x, 1.51x); 3x3 (1.78x) and 5x5 (2.56x) measured
// no faster, or slower, than the other kernels.
bool fits(int64_t h, int64_t w);

void forward(const Conv2dGeom& g, const float* x, const float* w, const float* b, float* y, bool relu);
void backward_data(const Conv2dGeom& g, const float* dy, const float* w, float* dx);
void backward_weights(const Conv2dGeom& g, const float* x, const float* dy, float* dw, float* db);

}  // namespace ember::kernels::conv_winograd
