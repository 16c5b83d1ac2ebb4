// Everything Ember offers, in one include.
//
//   #include <ember/ember.h>
//   auto x = ember::randn({8, 4});
//   auto w = ember::randn({4, 2}).requires_grad_();
//   ember::sum(ember::matmul(x, w)).backward();
#pragma once

#include "ember/autograd/grad_mode.h"
#include "ember/autograd/node.h"
#include "ember/core/allocator.h"
#include "ember/core/dtype.h"
#include "ember/core/error.h"
#include "ember/core/random.h"
#include "ember/core/shape.h"
#include "ember/core/tensor.h"
#include "ember/kernels/parallel.h"
#include "ember/ops/ops.h"

// Higher layers, when built.
#if __has_include("ember/ops/nn_ops.h")
#include "ember/ops/nn_ops.h"
#endif
#if __has_include("ember/ops/conv.h")
#include "ember/ops/conv.h"
#endif
#if __has_include("ember/ops/loss.h")
#include "ember/ops/loss.h"
#endif
#if __has_include("ember/ops/rnn.h")
#include "ember/ops/rnn.h"
#endif
#if __has_include("ember/nn/nn.h")
#include "ember/nn/nn.h"
#endif
#if __has_include("ember/optim/optim.h")
#include "ember/optim/optim.h"
#endif
#if __has_include("ember/data/data.h")
#include "ember/data/data.h"
#endif
#if __has_include("ember/io/safetensors.h")
#include "ember/io/safetensors.h"
#include "ember/io/atomic_file.h"
#endif
#if __has_include("ember/train/train.h")
#include "ember/train/train.h"
#endif
