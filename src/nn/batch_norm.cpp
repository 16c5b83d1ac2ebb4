#include "ember/nn/batch_norm.h"

#include <sstream>

#include "ember/autograd/grad_mode.h"
#include "ember/ops/conv.h"
#include "ember/ops/ops.h"

namespace ember::nn {

BatchNormBase::BatchNormBase(const std::string& type_name, const BatchNormOptions& o)
    : Module(type_name), options_(o) {
  EMBER_CHECK(o.num_features() > 0, ValueError, type_name, ": num_features must be positive, got ",
              o.num_features());
  EMBER_CHECK(o.eps() > 0, ValueError, type_name, ": eps must be positive, got ", o.eps());
  EMBER_CHECK(!o.momentum() || (*o.momentum() >= 0 && *o.momentum() <= 1), ValueError, type_name,
              ": momentum must be in [0, 1], got ", o.momentum().value_or(0));
  const int64_t c = o.num_features();
  weight = register_parameter("weight", o.affine() ? ones({c}, o.dtype()) : Tensor());
  bias = register_parameter("bias", o.affine() ? zeros({c}, o.dtype()) : Tensor());
  if (o.track_running_stats()) {
    running_mean = register_buffer("running_mean", zeros({c}, o.dtype()));
    running_var = register_buffer("running_var", ones({c}, o.dtype()));
    num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, DType::Int64));
  } else {
    register_buffer("running_mean", Tensor());
    register_buffer("running_var", Tensor());
    register_buffer("num_batches_tracked", Tensor());
  }
}

void BatchNormBase::reset_running_stats() {
  if (!options_.track_running_stats()) return;
  fill_(running_mean, 0.0);
  fill_(running_var, 1.0);
  fill_(num_batches_tracked, 0.0);
}

void BatchNormBase::reset_parameters() {
  reset_running_stats();
  if (options_.affine()) {
    fill_(weight, 1.0);
    fill_(bias, 0.0);
  }
}

Tensor BatchNormBase::normalize(const Tensor& x) {
  const bool use_batch_stats = training_ || !options_.track_running_stats();
  double momentum = options_.momentum().value_or(0.0);
  if (training_ && options_.track_running_stats()) {
    int64_t& n = num_batches_tracked.data<int64_t>()[0];
    ++n;
    if (!options_.momentum()) momentum = 1.0 / static_cast<double>(n);
  }
  // In training the op updates the running statistics it is given; eval without running stats (not
  // tracked) normalises with the batch statistics like PyTorch.
  const bool update = training_ && options_.track_running_stats();
  return batch_norm(x, weight, bias, update || !use_batch_stats ? running_mean : Tensor(),
                    update || !use_batch_stats ? running_var : Tensor(), use_batch_stats, momentum,
                    options_.eps());
}

std::string BatchNormBase::extra_repr() const {
  std::ostringstream s;
  s << options_.num_features() << ", eps=" << options_.eps() << ", momentum=";
  if (options_.momentum())
    s << *options_.momentum();
  else
    s << "None";
  s << ", affine=" << (options_.affine() ? "true" : "false")
    << ", track_running_stats=" << (options_.track_running_stats() ? "true" : "false");
  return s.str();
}

Tensor BatchNorm1d::forward(const Tensor& x) {
  const int64_t c = options_.num_features();
  check_input_shape(x, (x.dim() == 2 || x.dim() == 3) && x.size(1) == c,
                    "(N, " + std::to_string(c) + ") or (N, " + std::to_string(c) + ", L)");
  if (x.dim() == 2) return normalize(x);
  const Shape s = x.shape();
  return reshape(normalize(reshape(x, {s[0], s[1], s[2], 1})), s);
}

Tensor BatchNorm2d::forward(const Tensor& x) {
  const int64_t c = options_.num_features();
  check_input_shape(x, 4, 1, c, "(N, " + std::to_string(c) + ", H, W)");
  return normalize(x);
}

}  // namespace ember::nn
