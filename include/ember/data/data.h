// The data layer in one include: datasets and wrappers, the DataLoader, augmentation, readers (IDX,
// Fashion-MNIST, MNIST, SpamAssassin, CSV, image folders) and text preprocessing. See docs/data.md.
//
//   #include <ember/data/data.h>
//   auto fm = ember::data::load_fashion_mnist();
//   for (auto& b : ember::data::DataLoader(fm.train, ember::data::DataLoaderOptions().batch_size(128))) {}
#pragma once

#include "ember/data/dataset.h"
#include "ember/data/loader.h"
#include "ember/data/readers.h"
#include "ember/data/text.h"
#include "ember/data/transforms.h"
