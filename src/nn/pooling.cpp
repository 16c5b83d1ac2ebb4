#include "ember/nn/pooling.h"

#include "pair_format.h"

namespace ember::nn {

using detail::pair_str;

namespace {

template <typename Opts>
void check_pool_options(const char* layer, const Opts& o) {
  const Pair k = o.kernel_size(), s = o.stride(), p = o.padding();
  EMBER_CHECK(k[0] > 0 && k[1] > 0 && s[0] > 0 && s[1] > 0, ValueError, layer,
              ": kernel_size and stride must be positive, got kernel_size=", pair_str(k),
              ", stride=", pair_str(s));
  EMBER_CHECK(p[0] >= 0 && p[1] >= 0 && p[0] <= k[0] / 2 && p[1] <= k[1] / 2, ValueError, layer,
              ": padding must be in [0, kernel_size / 2], got padding=", pair_str(p),
              ", kernel_size=", pair_str(k));
}

template <typename Opts>
std::string pool_repr(const Opts& o) {
  return "kernel_size=" + pair_str(o.kernel_size()) + ", stride=" + pair_str(o.stride()) +
         ", padding=" + pair_str(o.padding()) + ", ceil_mode=" + (o.ceil_mode() ? "true" : "false");
}
}  // namespace

MaxPool2d::MaxPool2d(const MaxPool2dOptions& options) : Module("MaxPool2d"), options_(options) {
  check_pool_options("MaxPool2d", options_);
}

Tensor MaxPool2d::forward(const Tensor& x) {
  check_input_shape(x, 4, 0, -1, "(N, C, H, W)");
  return max_pool2d(x, options_.kernel_size(), options_.stride(), options_.padding(), options_.ceil_mode());
}

std::string MaxPool2d::extra_repr() const {
  return pool_repr(options_);
}

AvgPool2d::AvgPool2d(const AvgPool2dOptions& options) : Module("AvgPool2d"), options_(options) {
  check_pool_options("AvgPool2d", options_);
}

Tensor AvgPool2d::forward(const Tensor& x) {
  check_input_shape(x, 4, 0, -1, "(N, C, H, W)");
  return avg_pool2d(x, options_.kernel_size(), options_.stride(), options_.padding(), options_.ceil_mode(),
                    options_.count_include_pad());
}

std::string AvgPool2d::extra_repr() const {
  return pool_repr(options_) + ", count_include_pad=" + (options_.count_include_pad() ? "true" : "false");
}

AdaptiveAvgPool2d::AdaptiveAvgPool2d(Pair output_size)
    : Module("AdaptiveAvgPool2d"), output_size_(output_size) {
  EMBER_CHECK(output_size[0] > 0 && output_size[1] > 0, ValueError,
              "AdaptiveAvgPool2d: output_size must be positive, got ", pair_str(output_size));
}

Tensor AdaptiveAvgPool2d::forward(const Tensor& x) {
  check_input_shape(x, 4, 0, -1, "(N, C, H, W)");
  return adaptive_avg_pool2d(x, output_size_);
}

std::string AdaptiveAvgPool2d::extra_repr() const {
  return "output_size=" + pair_str(output_size_);
}

Tensor GlobalAvgPool2d::forward(const Tensor& x) {
  check_input_shape(x, 4, 0, -1, "(N, C, H, W)");
  return mean(x, {2, 3});
}

Tensor GlobalAvgPool1d::forward(const Tensor& x) {
  check_input_shape(x, 3, 0, -1, "(N, T, C)");
  return global_avg_pool1d(x);
}

}  // namespace ember::nn
