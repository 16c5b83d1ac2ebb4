#include <algorithm>
#include <cmath>
#include <filesystem>

#include "ember/data/readers.h"

// stb_image compiled here with internal linkage, so no other target can clash with its symbols.
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#include "stb_image.h"
#pragma GCC diagnostic pop

namespace fs = std::filesystem;

namespace ember::data {

void resize_bilinear(const float* src, int64_t c, int64_t h, int64_t w, float* dst, int64_t oh, int64_t ow) {
  // align_corners=False: output pixel centre maps to (o + 0.5) * in / out - 0.5, clamped at the border.
  const double sy = static_cast<double>(h) / oh, sx = static_cast<double>(w) / ow;
  for (int64_t y = 0; y < oh; ++y) {
    const double fy = std::max(0.0, (y + 0.5) * sy - 0.5);
    const int64_t y0 = std::min<int64_t>(static_cast<int64_t>(fy), h - 1),
                  y1 = std::min<int64_t>(y0 + 1, h - 1);
    const float ay = static_cast<float>(fy - y0);
    for (int64_t x = 0; x < ow; ++x) {
      const double fx = std::max(0.0, (x + 0.5) * sx - 0.5);
      const int64_t x0 = std::min<int64_t>(static_cast<int64_t>(fx), w - 1),
                    x1 = std::min<int64_t>(x0 + 1, w - 1);
      const float ax = static_cast<float>(fx - x0);
      for (int64_t ch = 0; ch < c; ++ch) {
        const float* s = src + ch * h * w;
        const float top = s[y0 * w + x0] * (1 - ax) + s[y0 * w + x1] * ax;
        const float bot = s[y1 * w + x0] * (1 - ax) + s[y1 * w + x1] * ax;
        dst[(ch * oh + y) * ow + x] = top * (1 - ay) + bot * ay;
      }
    }
  }
}

namespace {
void decode_into(const std::string& path, int64_t height, int64_t width, int64_t channels, float* out) {
  int w = 0, h = 0, n = 0;
  unsigned char* px = stbi_load(path.c_str(), &w, &h, &n, static_cast<int>(channels));
  if (!px) {
    const char* why = stbi_failure_reason();
    throw IOError(detail::concat("cannot decode image '", path, "': ", why ? why : "unknown error"));
  }
  std::vector<float> chw(static_cast<size_t>(channels) * w * h);
  for (int64_t ch = 0; ch < channels; ++ch)
    for (int64_t i = 0; i < static_cast<int64_t>(w) * h; ++i)
      chw[ch * w * h + i] = static_cast<float>(px[i * channels + ch]) / 255.0f;
  stbi_image_free(px);
  if (h == height && w == width) {
    std::copy(chw.begin(), chw.end(), out);
  } else {
    resize_bilinear(chw.data(), channels, h, w, out, height, width);
  }
}
void check_args(const char* who, int64_t height, int64_t width, int64_t channels) {
  EMBER_CHECK(height > 0 && width > 0, ValueError, who, ": size must be positive, got ", height, "x", width);
  EMBER_CHECK(channels == 1 || channels == 3, ValueError, who, ": channels must be 1 or 3, got ", channels);
}
bool is_image_file(const fs::path& p) {
  std::string e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
  return e == ".png" || e == ".jpg" || e == ".jpeg" || e == ".bmp" || e == ".gif" || e == ".tga" ||
         e == ".ppm" || e == ".pgm";
}
}  // namespace

Tensor load_image(const std::string& path, int64_t height, int64_t width, int64_t channels) {
  check_args("load_image", height, width, channels);
  Tensor t = empty({channels, height, width}, DType::Float32);
  decode_into(path, height, width, channels, t.data<float>());
  return t;
}

ImageFolder load_image_folder(const std::string& dir, int64_t height, int64_t width, int64_t channels) {
  check_args("load_image_folder", height, width, channels);
  EMBER_CHECK(fs::is_directory(dir), IOError, "load_image_folder: '", dir, "' is not a directory");
  ImageFolder out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory()) out.class_names.push_back(e.path().filename().string());
  std::sort(out.class_names.begin(), out.class_names.end());
  EMBER_CHECK(!out.class_names.empty(), IOError, "load_image_folder: '", dir,
              "' has no class subfolders (expected dir/<class>/<images>)");
  std::vector<int64_t> labels;
  for (size_t k = 0; k < out.class_names.size(); ++k) {
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(fs::path(dir) / out.class_names[k]))
      if (e.is_regular_file() && is_image_file(e.path())) files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    for (auto& f : files) {
      out.files.push_back(std::move(f));
      labels.push_back(static_cast<int64_t>(k));
    }
  }
  const int64_t n = static_cast<int64_t>(out.files.size());
  EMBER_CHECK(n > 0, IOError, "load_image_folder: no image files under '", dir, "'");
  Tensor x = empty({n, channels, height, width}, DType::Float32);
  const int64_t per = channels * height * width;
  for (int64_t i = 0; i < n; ++i)
    decode_into(out.files[i], height, width, channels, x.data<float>() + i * per);
  out.dataset = std::make_shared<TensorDataset>(x, from_vector(labels, Shape{n}));
  return out;
}

}  // namespace ember::data
