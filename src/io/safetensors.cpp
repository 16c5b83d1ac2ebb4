#include "ember/io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "ember/core/dispatch.h"
#include "ember/io/atomic_file.h"

namespace ember::io {

namespace {

using nlohmann::json;

const char* st_dtype(DType dt) {
  switch (dt) {
    case DType::Float32: return "F32";
    case DType::Float64: return "F64";
    case DType::Int64: return "I64";
    case DType::Bool: return "BOOL";
  }
  return "?";
}

float half_to_float(uint16_t h) {
  uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  float v;
  if (exp == 0) v = std::ldexp(static_cast<float>(mant), -24);
  else if (exp == 31) v = mant ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  else v = std::ldexp(static_cast<float>(mant | 0x400), static_cast<int>(exp) - 25);
  return sign ? -v : v;
}

float bf16_to_float(uint16_t b) {
  uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

}  // namespace

std::string to_safetensors_bytes(const NamedTensors& tensors, const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  std::set<std::string> names;
  size_t offset = 0;
  std::vector<Tensor> data;
  for (auto& [name, t] : tensors) {
    EMBER_CHECK(t.defined(), ValueError, "save_safetensors: tensor '", name, "' is undefined");
    EMBER_CHECK(name != "__metadata__" && names.insert(name).second, ValueError,
                "save_safetensors: duplicate or reserved tensor name '", name, "'");
    Tensor c = contiguous_data(t);
    size_t bytes = static_cast<size_t>(c.numel()) * dtype_size(c.dtype());
    header[name] = {{"dtype", st_dtype(c.dtype())}, {"shape", c.shape().vec()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    data.push_back(c);
  }
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string h = header.dump();
  // Pad the header with spaces so the data starts 8-byte aligned (allowed by the format).
  while ((8 + h.size()) % 8) h.push_back(' ');
  std::string out;
  out.reserve(8 + h.size() + offset);
  uint64_t n = h.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  out += h;
  for (auto& c : data) out.append(static_cast<const char*>(c.raw_data()), c.numel() * dtype_size(c.dtype()));
  return out;
}

void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata) {
  std::string bytes = to_safetensors_bytes(tensors, metadata);
  atomic_write(path, [&](std::FILE* f) { write_all(f, bytes.data(), bytes.size(), path); });
}

SafetensorsFile parse_safetensors(const std::string& bytes, const std::string& source) {
  auto fail = [&](const std::string& why) -> IOError {
    return IOError(detail::concat(source, ": not a valid safetensors file: ", why));
  };
  if (bytes.size() < 8) throw fail(detail::concat("the file has ", bytes.size(), " bytes, fewer than the 8-byte header length"));
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
  if (n > bytes.size() - 8)
    throw fail(detail::concat("the header claims ", n, " bytes but only ", bytes.size() - 8, " follow (truncated?)"));
  json header;
  try {
    header = json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(n));
  } catch (const json::exception& e) {
    throw fail(detail::concat("the header is not valid JSON (", e.what(), ")"));
  }
  if (!header.is_object()) throw fail("the header is not a JSON object");
  size_t data_begin = 8 + n, data_size = bytes.size() - data_begin;
  SafetensorsFile out;
  struct Entry {
    std::string name;
    size_t begin, end;
    Tensor t;
  };
  std::vector<Entry> entries;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object()) throw fail("__metadata__ is not an object");
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string()) throw fail(detail::concat("metadata value '", m.key(), "' is not a string"));
        out.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    const json& e = *it;
    const std::string& name = it.key();
    if (!e.is_object() || !e.contains("dtype") || !e.contains("shape") || !e.contains("data_offsets"))
      throw fail(detail::concat("entry '", name, "' lacks dtype, shape or data_offsets"));
    if (!e["dtype"].is_string() || !e["shape"].is_array() || !e["data_offsets"].is_array() || e["data_offsets"].size() != 2)
      throw fail(detail::concat("entry '", name, "' has malformed fields"));
    std::string dt = e["dtype"].get<std::string>();
    Shape shape;
    for (auto& d : e["shape"]) {
      if (!d.is_number_unsigned()) throw fail(detail::concat("entry '", name, "' has a negative or non-integer dimension"));
      shape.push_back(d.get<int64_t>());
    }
    if (!e["data_offsets"][0].is_number_unsigned() || !e["data_offsets"][1].is_number_unsigned())
      throw fail(detail::concat("entry '", name, "' has non-integer data offsets"));
    size_t begin = e["data_offsets"][0].get<size_t>(), end = e["data_offsets"][1].get<size_t>();
    size_t elem = dt == "F32" || dt == "I32" ? 4 : dt == "F64" || dt == "I64" ? 8 : dt == "F16" || dt == "BF16" || dt == "I16" ? 2
                  : dt == "BOOL" || dt == "U8" || dt == "I8" ? 1 : 0;
    if (!elem) throw fail(detail::concat("entry '", name, "' has unsupported dtype ", dt));
    if (begin > end || end > data_size)
      throw fail(detail::concat("entry '", name, "' spans bytes [", begin, ", ", end, ") but the data section has ", data_size,
                                " bytes (truncated?)"));
    if (static_cast<size_t>(shape.numel()) * elem != end - begin)
      throw fail(detail::concat("entry '", name, "' of shape ", shape, " and dtype ", dt, " needs ", shape.numel() * elem,
                                " bytes but its offsets give ", end - begin));
    const char* src = bytes.data() + data_begin + begin;
    int64_t count = shape.numel();
    Tensor t;
    if (dt == "F32" || dt == "F64" || dt == "I64" || dt == "BOOL") {
      DType d = dt == "F32" ? DType::Float32 : dt == "F64" ? DType::Float64 : dt == "I64" ? DType::Int64 : DType::Bool;
      t = empty(shape, d);
      std::memcpy(t.raw_data(), src, end - begin);
    } else if (dt == "F16" || dt == "BF16") {
      t = empty(shape, DType::Float32);
      float* p = t.data<float>();
      for (int64_t i = 0; i < count; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        p[i] = dt == "F16" ? half_to_float(h) : bf16_to_float(h);
      }
    } else {
      t = empty(shape, DType::Int64);
      int64_t* p = t.data<int64_t>();
      for (int64_t i = 0; i < count; ++i) {
        if (dt == "I32") { int32_t v; std::memcpy(&v, src + 4 * i, 4); p[i] = v; }
        else if (dt == "I16") { int16_t v; std::memcpy(&v, src + 2 * i, 2); p[i] = v; }
        else if (dt == "I8") p[i] = static_cast<int8_t>(src[i]);
        else p[i] = static_cast<uint8_t>(src[i]);
      }
    }
    entries.push_back({name, begin, end, t});
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < entries.size(); ++i)
    if (entries[i].begin < entries[i - 1].end && entries[i].end > entries[i].begin)
      throw fail(detail::concat("entries '", entries[i - 1].name, "' and '", entries[i].name, "' overlap"));
  for (auto& e : entries) out.tensors.emplace_back(e.name, e.t);
  return out;
}

SafetensorsFile load_safetensors(const std::string& path) { return parse_safetensors(read_file(path), path); }

}  // namespace ember::io
