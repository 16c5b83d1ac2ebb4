#include "ember/data/transforms.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>
#include <vector>

namespace ember::data {

namespace {
uint64_t splitmix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
double uniform_in(Generator& g, double lo, double hi) {
  return lo + (hi - lo) * g.uniform();
}

class RandomRotation : public Augmentation {
 public:
  explicit RandomRotation(double d) : d_(d) {}
  void apply(float* img, int64_t c, int64_t h, int64_t w, Generator& rng, float* scratch) const override {
    const double deg = uniform_in(rng, -d_, d_);
    rotate_scale(img, scratch, c, h, w, deg, 1.0);
    std::memcpy(img, scratch, sizeof(float) * c * h * w);
  }
  std::string name() const override { return "random_rotation"; }

 private:
  double d_;
};

class RandomScale : public Augmentation {
 public:
  RandomScale(double lo, double hi) : lo_(lo), hi_(hi) {}
  void apply(float* img, int64_t c, int64_t h, int64_t w, Generator& rng, float* scratch) const override {
    const double s = uniform_in(rng, lo_, hi_);
    rotate_scale(img, scratch, c, h, w, 0.0, s);
    std::memcpy(img, scratch, sizeof(float) * c * h * w);
  }
  std::string name() const override { return "random_scale"; }

 private:
  double lo_, hi_;
};

class RandomCrop : public Augmentation {
 public:
  explicit RandomCrop(int64_t p) : p_(p) {}
  void apply(float* img, int64_t c, int64_t h, int64_t w, Generator& rng, float* scratch) const override {
    // Cropping the padded image at (ox, oy) in [0, 2p] is a shift by (p - ox, p - oy).
    const int64_t ox = rng.randint(0, 2 * p_ + 1), oy = rng.randint(0, 2 * p_ + 1);
    shift(img, scratch, c, h, w, p_ - ox, p_ - oy);
    std::memcpy(img, scratch, sizeof(float) * c * h * w);
  }
  std::string name() const override { return "random_crop"; }

 private:
  int64_t p_;
};

class RandomTranslation : public Augmentation {
 public:
  RandomTranslation(double fx, double fy) : fx_(fx), fy_(fy) {}
  void apply(float* img, int64_t c, int64_t h, int64_t w, Generator& rng, float* scratch) const override {
    const double mx = fx_ * static_cast<double>(w), my = fy_ * static_cast<double>(h);
    const int64_t dx = std::llround(uniform_in(rng, -mx, mx)), dy = std::llround(uniform_in(rng, -my, my));
    shift(img, scratch, c, h, w, dx, dy);
    std::memcpy(img, scratch, sizeof(float) * c * h * w);
  }
  std::string name() const override { return "random_translation"; }

 private:
  double fx_, fy_;
};

class HorizontalFlip : public Augmentation {
 public:
  explicit HorizontalFlip(double p) : p_(p) {}
  void apply(float* img, int64_t c, int64_t h, int64_t w, Generator& rng, float*) const override {
    if (rng.uniform() >= p_) return;
    for (int64_t r = 0; r < c * h; ++r) std::reverse(img + r * w, img + (r + 1) * w);
  }
  std::string name() const override { return "horizontal_flip"; }

 private:
  double p_;
};

class Normalize : public Augmentation {
 public:
  Normalize(std::vector<float> m, std::vector<float> s) : mean_(std::move(m)), std_(std::move(s)) {}
  void apply(float* img, int64_t c, int64_t h, int64_t w, Generator&, float*) const override {
    EMBER_CHECK(mean_.size() == 1 || static_cast<int64_t>(mean_.size()) == c, ShapeError,
                "normalize: ", mean_.size(), " means/stds for an image with ", c, " channels");
    for (int64_t ch = 0; ch < c; ++ch) {
      const size_t k = mean_.size() == 1 ? 0 : static_cast<size_t>(ch);
      const float m = mean_[k], inv = 1.0f / std_[k];
      float* p = img + ch * h * w;
      for (int64_t i = 0; i < h * w; ++i) p[i] = (p[i] - m) * inv;
    }
  }
  std::string name() const override { return "normalize"; }

 private:
  std::vector<float> mean_, std_;
};

class Compose : public Augmentation {
 public:
  explicit Compose(std::vector<AugmentationPtr> parts) : parts_(std::move(parts)) {}
  void apply(float* img, int64_t c, int64_t h, int64_t w, Generator& rng, float* scratch) const override {
    for (const auto& p : parts_) p->apply(img, c, h, w, rng, scratch);
  }
  std::string name() const override {
    std::string s = "compose(";
    for (size_t i = 0; i < parts_.size(); ++i) s += (i ? ", " : "") + parts_[i]->name();
    return s + ")";
  }

 private:
  std::vector<AugmentationPtr> parts_;
};
}  // namespace

AugmentationPtr random_rotation(double max_degrees) {
  EMBER_CHECK(max_degrees >= 0, ValueError, "random_rotation: max_degrees must be >= 0, got ", max_degrees);
  return std::make_shared<RandomRotation>(max_degrees);
}
AugmentationPtr random_crop(int64_t padding) {
  EMBER_CHECK(padding >= 0, ValueError, "random_crop: padding must be >= 0, got ", padding);
  return std::make_shared<RandomCrop>(padding);
}
AugmentationPtr random_scale(double min_scale, double max_scale) {
  EMBER_CHECK(min_scale > 0 && max_scale >= min_scale, ValueError,
              "random_scale: need 0 < min_scale <= max_scale, got ", min_scale, " and ", max_scale);
  return std::make_shared<RandomScale>(min_scale, max_scale);
}
AugmentationPtr random_translation(double max_dx, double max_dy) {
  EMBER_CHECK(max_dx >= 0 && max_dx <= 1 && max_dy >= 0 && max_dy <= 1, ValueError,
              "random_translation: fractions must be in [0, 1], got ", max_dx, " and ", max_dy);
  return std::make_shared<RandomTranslation>(max_dx, max_dy);
}
AugmentationPtr horizontal_flip(double p) {
  EMBER_CHECK(p >= 0 && p <= 1, ValueError, "horizontal_flip: p must be in [0, 1], got ", p);
  return std::make_shared<HorizontalFlip>(p);
}
AugmentationPtr normalize(std::vector<float> mean, std::vector<float> std) {
  EMBER_CHECK(!mean.empty() && mean.size() == std.size(), ValueError,
              "normalize: need as many means as stds (", mean.size(), " vs ", std.size(), ")");
  for (float s : std) EMBER_CHECK(s > 0, ValueError, "normalize: std must be > 0, got ", s);
  return std::make_shared<Normalize>(std::move(mean), std::move(std));
}
AugmentationPtr compose(std::vector<AugmentationPtr> parts) {
  for (const auto& p : parts) EMBER_CHECK(p, ValueError, "compose: a part is null");
  return std::make_shared<Compose>(std::move(parts));
}

void affine_warp(const float* src, float* dst, int64_t c, int64_t h, int64_t w, const double m[6]) {
  const int64_t plane = h * w;
  for (int64_t y = 0; y < h; ++y) {
    // The source point moves by (m[0], m[3]) per output column: step it instead of recomputing.
    double sx = m[1] * y + m[2], sy = m[4] * y + m[5];
    for (int64_t x = 0; x < w; ++x, sx += m[0], sy += m[3]) {
      const double fx = std::floor(sx), fy = std::floor(sy);
      const int64_t x0 = static_cast<int64_t>(fx), y0 = static_cast<int64_t>(fy);
      const float ax = static_cast<float>(sx - fx), ay = static_cast<float>(sy - fy);
      const float w00 = (1 - ax) * (1 - ay), w01 = ax * (1 - ay), w10 = (1 - ax) * ay, w11 = ax * ay;
      float* d = dst + y * w + x;
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h) {  // interior: all four neighbours exist
        const float* s = src + y0 * w + x0;
        for (int64_t ch = 0; ch < c; ++ch, s += plane)
          d[ch * plane] = w00 * s[0] + w01 * s[1] + w10 * s[w] + w11 * s[w + 1];
        continue;
      }
      if (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h) {  // no neighbour inside
        for (int64_t ch = 0; ch < c; ++ch) d[ch * plane] = 0.0f;
        continue;
      }
      // Border: neighbours outside read as 0.
      const float wts[4] = {w00, w01, w10, w11};
      const int64_t xs[4] = {x0, x0 + 1, x0, x0 + 1}, ys[4] = {y0, y0, y0 + 1, y0 + 1};
      for (int64_t ch = 0; ch < c; ++ch) {
        const float* s = src + ch * plane;
        float v = 0;
        for (int k = 0; k < 4; ++k)
          if (xs[k] >= 0 && xs[k] < w && ys[k] >= 0 && ys[k] < h) v += wts[k] * s[ys[k] * w + xs[k]];
        d[ch * plane] = v;
      }
    }
  }
}

void rotate_scale(const float* src, float* dst, int64_t c, int64_t h, int64_t w, double degrees,
                  double scale) {
  // Output pixel p reads the source at centre + R(-theta) (p - centre) / scale, where R(theta) turns the
  // picture counter-clockwise on screen (y down): R(theta) = [[cos, sin], [-sin, cos]].
  const double t = degrees * std::numbers::pi / 180.0, cs = std::cos(t) / scale, sn = std::sin(t) / scale;
  const double cx = (static_cast<double>(w) - 1) / 2, cy = (static_cast<double>(h) - 1) / 2;
  const double m[6] = {cs, -sn, cx - cs * cx + sn * cy, sn, cs, cy - sn * cx - cs * cy};
  affine_warp(src, dst, c, h, w, m);
}

void shift(const float* src, float* dst, int64_t c, int64_t h, int64_t w, int64_t dx, int64_t dy) {
  for (int64_t ch = 0; ch < c; ++ch) {
    for (int64_t y = 0; y < h; ++y) {
      float* d = dst + (ch * h + y) * w;
      const int64_t sy = y - dy;
      if (sy < 0 || sy >= h) {
        std::fill(d, d + w, 0.0f);
        continue;
      }
      const float* s = src + (ch * h + sy) * w;
      const int64_t lo = std::clamp<int64_t>(dx, 0, w), hi = std::clamp<int64_t>(w + dx, 0, w);
      std::fill(d, d + lo, 0.0f);
      if (hi > lo) std::memcpy(d + lo, s + (lo - dx), sizeof(float) * (hi - lo));
      std::fill(d + std::max(hi, lo), d + w, 0.0f);
    }
  }
}

Tensor apply_augmentation(const Augmentation& aug, const Tensor& img, uint64_t seed) {
  EMBER_CHECK(img.dtype() == DType::Float32 && (img.dim() == 2 || img.dim() == 3), ShapeError,
              "apply_augmentation: expected a float32 image (C,H,W) or (H,W), got ", img.shape().to_string(),
              " ", dtype_name(img.dtype()));
  Tensor out = copy_as(img, DType::Float32);
  const int64_t c = img.dim() == 3 ? img.size(0) : 1, h = img.size(-2), w = img.size(-1);
  std::vector<float> scratch(static_cast<size_t>(c * h * w));
  Generator g(seed);
  aug.apply(out.data<float>(), c, h, w, g, scratch.data());
  return out;
}

uint64_t sample_seed(uint64_t seed, int64_t epoch, int64_t index) {
  return splitmix(splitmix(splitmix(seed) ^ static_cast<uint64_t>(epoch)) ^ static_cast<uint64_t>(index));
}

}  // namespace ember::data
