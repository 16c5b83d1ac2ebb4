// Helpers shared by the data layer's sources (not installed).
#pragma once

#include <string>

#include "ember/core/tensor.h"

namespace ember::data {

// An uninitialised tensor for a whole data set: large ones come from mmap with transparent huge pages.
Tensor empty_bulk(const Shape& shape, DType dtype);
// The text of a file; IOError naming it if it cannot be read.
std::string read_text_file(const std::string& path);

}  // namespace ember::data
