// safetensors: the tensor file format PyTorch and the Hugging Face tools read. An 8-byte little-endian header
// length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {...}}, then the raw bytes.
// Ember writes it atomically and validates every field when reading: a corrupt or truncated file is an IOError
// naming the file and the problem.
//
//   ember::io::save_safetensors("model.safetensors", model->state_dict());
//   auto tensors = ember::io::load_safetensors("model.safetensors");   // ordered (name, Tensor) pairs
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ember/core/tensor.h"

namespace ember::io {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

struct SafetensorsFile {
  NamedTensors tensors;                            // in file order (sorted by data offset)
  std::map<std::string, std::string> metadata;     // the "__metadata__" entry
};

// F32, F64, I64 and BOOL tensors; names must be unique. Non-contiguous tensors are written contiguously.
void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata = {});
// Serialises to bytes (what save_safetensors writes).
std::string to_safetensors_bytes(const NamedTensors& tensors, const std::map<std::string, std::string>& metadata = {});

SafetensorsFile load_safetensors(const std::string& path);
// Parses bytes; `source` names them in error messages. F16/BF16/I32/U8/... are converted to float32/int64.
SafetensorsFile parse_safetensors(const std::string& bytes, const std::string& source);

}  // namespace ember::io
