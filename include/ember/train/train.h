// Umbrella header of the train layer: the Keras-like path (keras::Sequential and its layers, compile/fit/
// evaluate/predict, callbacks, model files) and the train_step / train_epoch / evaluate building blocks.
//
//   #include <ember/train/train.h>
//   using namespace ember::keras;
//   Sequential model({Input({784}), Dense(128, "relu"), Dense(10)});
//   model.compile("adam", "sparse_categorical_crossentropy", {"accuracy"}, /*from_logits=*/true);
//   model.fit(x, y, FitOptions().epochs(3));
#pragma once

#include "ember/train/callbacks.h"
#include "ember/train/layers.h"
#include "ember/train/loop.h"
#include "ember/train/metrics.h"
#include "ember/train/model.h"
