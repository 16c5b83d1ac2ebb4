// Private to src/kernels/cpu: convolution as im2col + a hand-written AVX2 GEMM (conv_gemm.cpp), used by
// conv.cpp for the middle layers of small image models (5+ input channels, groups 1).
#pragma once

#include "ember/kernels/conv.h"

namespace ember::kernels::conv_gemm {

// True when this build has the AVX2/FMA kernel and the geometry is one it handles (groups 1).
bool supported(const Conv2dGeom& g);

void forward(const Conv2dGeom& g, const float* x, const float* w, const float* b, float* y, bool relu);
void backward_data(const Conv2dGeom& g, const float* dy, const float* w, float* dx);
void backward_weights(const Conv2dGeom& g, const float* x, const float* dy, float* dw, float* db);

}  // namespace ember::kernels::conv_gemm
