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
