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
