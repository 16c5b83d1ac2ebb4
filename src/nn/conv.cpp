#include "ember/nn/conv.h"

#include <cmath>

#include "ember/nn/init.h"
#include "pair_format.h"

namespace ember::nn {

using detail::pair_str;

Conv2d::Conv2d(const Conv2dOptions& o, Generator* gen) : Module("Conv2d"), options_(o) {
  EMBER_CHECK(o.in_channels() > 0 && o.out_channels() > 0, ValueError,
              "Conv2d: channel counts must be positive, got in_channels=", o.in_channels(),
              ", out_channels=", o.out_channels());
  EMBER_CHECK(o.groups() > 0 && o.in_channels() % o.groups() == 0 && o.out_channels() % o.groups() == 0,
              ValueError, "Conv2d: in_channels=", o.in_channels(), " and out_channels=", o.out_channels(),
              " must be divisible by groups=", o.groups());
  EMBER_CHECK(o.kernel_size()[0] > 0 && o.kernel_size()[1] > 0, ValueError,
              "Conv2d: kernel_size must be positive, got ", pair_str(o.kernel_size()));
  EMBER_CHECK(o.stride()[0] > 0 && o.stride()[1] > 0 && o.dilation()[0] > 0 && o.dilation()[1] > 0,
              ValueError, "Conv2d: stride and dilation must be positive, got stride=", pair_str(o.stride()),
              ", dilation=", pair_str(o.dilation()));
  weight = register_parameter("weight", empty({o.out_channels(), o.in_channels() / o.groups(),
                                               o.kernel_size()[0], o.kernel_size()[1]},
                                              o.dtype()));
  bias = register_parameter("bias", o.bias() ? empty({o.out_channels()}, o.dtype()) : Tensor());
  reset_parameters(gen);
}

void Conv2d::reset_parameters(Generator* gen) {
  init::kaiming_uniform_(weight, std::sqrt(5.0), init::FanMode::FanIn, "leaky_relu", gen);
  if (bias.defined()) {
    const double fan_in = static_cast<double>(weight.size(1) * weight.size(2) * weight.size(3));
    const double bound = 1.0 / std::sqrt(fan_in);
    init::uniform_(bias, -bound, bound, gen);
  }
}

Conv2dParams Conv2d::params() const {
  Conv2dParams p;
  p.stride = options_.stride();
  p.padding = options_.padding();
  p.dilation = options_.dilation();
  p.groups = options_.groups();
  return p;
}

Tensor Conv2d::forward(const Tensor& x) {
  check_input_shape(x, 4, 1, options_.in_channels(),
                    "(N, " + std::to_string(options_.in_channels()) + ", H, W)");
  return conv2d(x, weight, bias, params());
}

std::string Conv2d::extra_repr() const {
  const auto& o = options_;
  std::string s = std::to_string(o.in_channels()) + ", " + std::to_string(o.out_channels()) +
                  ", kernel_size=" + pair_str(o.kernel_size()) + ", stride=" + pair_str(o.stride());
  const Padding2d& p = o.padding();
  if (!p.explicit_pair)
    s += p.mode == Padding::Same ? ", padding=same" : ", padding=valid";
  else if (p.h != 0 || p.w != 0)
    s += ", padding=" + pair_str({p.h, p.w});
  if (o.dilation() != Pair{1, 1}) s += ", dilation=" + pair_str(o.dilation());
  if (o.groups() != 1) s += ", groups=" + std::to_string(o.groups());
  if (!o.bias()) s += ", bias=false";
  return s;
}

}  // namespace ember::nn
