// Seeded data augmentation on float images (C, H, W), applied on the fly by the DataLoader. Each transform
// draws its random parameters from the Generator it is given; the loader seeds that generator per sample from
// (seed, epoch, dataset index), so a run is reproducible whatever the number of worker threads.
//
//   auto aug = ember::data::compose({ember::data::random_rotation(10), ember::data::random_crop(2),
//                                    ember::data::horizontal_flip(0.5), ember::data::normalize({0.5},
//                                    {0.5})});
//   DataLoader loader(ds, DataLoaderOptions().batch_size(128).shuffle(true).seed(1).augment(aug));
//   Tensor out = ember::data::apply_augmentation(*aug, img, /*seed=*/7);   // one image, for inspection
//
// Geometry: pixel (x=column, y=row), y pointing down; positive angles turn the picture counter-clockwise as
// seen on screen (like torchvision); points outside the source read as 0.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ember/core/random.h"
#include "ember/core/tensor.h"

namespace ember::data {

class Augmentation {
 public:
  virtual ~Augmentation() = default;
  // Transforms img (c*h*w floats, CHW) in place. `scratch` holds at least c*h*w floats.
  virtual void apply(float* img, int64_t c, int64_t h, int64_t w, Generator& rng, float* scratch) const = 0;
  virtual std::string name() const = 0;
};
using AugmentationPtr = std::shared_ptr<const Augmentation>;

// Rotation by an angle uniform in [-max_degrees, max_degrees] about the image centre, bilinear.
AugmentationPtr random_rotation(double max_degrees);
// Pads `padding` zero pixels on each side and crops a random window of the original size (integer shifts).
AugmentationPtr random_crop(int64_t padding);
// Zoom by a factor uniform in [min_scale, max_scale] about the centre (>1 enlarges), bilinear.
AugmentationPtr random_scale(double min_scale, double max_scale);
// Shift by whole pixels, uniform in [-max_dx*w, max_dx*w] x [-max_dy*h, max_dy*h] (rounded), zero fill.
AugmentationPtr random_translation(double max_dx, double max_dy);
// Mirrors left-right with probability p.
AugmentationPtr horizontal_flip(double p = 0.5);
// (x - mean[c]) / std[c] per channel; one value applies to every channel. Draws no random numbers.
AugmentationPtr normalize(std::vector<float> mean, std::vector<float> std);
// Applies the parts in order.
AugmentationPtr compose(std::vector<AugmentationPtr> parts);

// ---- the deterministic geometry underneath (usable on their own) ----
// dst(x, y) = bilinear sample of src at (m[0]*x + m[1]*y + m[2], m[3]*x + m[4]*y + m[5]) per channel; 0
// outside.
void affine_warp(const float* src, float* dst, int64_t c, int64_t h, int64_t w, const double m[6]);
// Rotation by `degrees` (counter-clockwise on screen) then zoom by `scale`, about the centre, into dst.
void rotate_scale(const float* src, float* dst, int64_t c, int64_t h, int64_t w, double degrees,
                  double scale);
// dst(x, y) = src(x - dx, y - dy), 0 outside.
void shift(const float* src, float* dst, int64_t c, int64_t h, int64_t w, int64_t dx, int64_t dy);

// Applies aug to a copy of img ((C,H,W) or (H,W), float32) with a generator seeded by `seed`.
Tensor apply_augmentation(const Augmentation& aug, const Tensor& img, uint64_t seed);

// The per-sample seed the DataLoader uses: a hash of (seed, epoch, index).
uint64_t sample_seed(uint64_t seed, int64_t epoch, int64_t index);

}  // namespace ember::data
