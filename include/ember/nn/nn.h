// Umbrella header of the nn layer: Module, Linear, Flatten, Dropout, activations, containers and
// initialisers.
//
//   #include <ember/nn/nn.h>
//   namespace nn = ember::nn;
//   auto model = std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(4, 8),
//   std::make_shared<nn::ReLU>(),
//                                                 std::make_shared<nn::Linear>(8, 1));
#pragma once

#include "ember/nn/activation.h"
#include "ember/nn/basic.h"
#include "ember/nn/container.h"
#include "ember/nn/init.h"
#include "ember/nn/linear.h"
#include "ember/nn/module.h"
#include "ember/ops/nn_ops.h"
#include "ember/ops/ops.h"

// Layer families added by later work, when present.
#if __has_include("ember/nn/conv.h")
#include "ember/nn/conv.h"
#endif
#if __has_include("ember/nn/pooling.h")
#include "ember/nn/pooling.h"
#endif
#if __has_include("ember/nn/batch_norm.h")
#include "ember/nn/batch_norm.h"
#endif
#if __has_include("ember/nn/loss.h")
#include "ember/nn/loss.h"
#endif
#if __has_include("ember/nn/blocks.h")
#include "ember/nn/blocks.h"
#endif
#if __has_include("ember/nn/embedding.h")
#include "ember/nn/embedding.h"
#endif
#if __has_include("ember/nn/rnn.h")
#include "ember/nn/rnn.h"
#endif
#if __has_include("ember/nn/layer_norm.h")
#include "ember/nn/layer_norm.h"
#endif
#if __has_include("ember/nn/attention.h")
#include "ember/nn/attention.h"
#endif
#if __has_include("ember/nn/transformer.h")
#include "ember/nn/transformer.h"
#endif
