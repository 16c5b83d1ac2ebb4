// Umbrella header of the optim layer: optimizers, the parameter arena, gradient clipping, LR schedulers.
//
//   #include <ember/optim/optim.h>
//   ember::optim::ParameterArena arena(params);
//   ember::optim::AdamW opt(params, ember::optim::AdamWOptions(1e-3));
//   ember::optim::CosineAnnealingLR sched(opt, /*t_max=*/100);
#pragma once

#include "ember/optim/adagrad.h"
#include "ember/optim/adam.h"
#include "ember/optim/arena.h"
#include "ember/optim/clip_grad.h"
#include "ember/optim/lr_scheduler.h"
#include "ember/optim/optimizer.h"
#include "ember/optim/rmsprop.h"
#include "ember/optim/sgd.h"
