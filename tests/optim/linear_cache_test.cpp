// nn::Linear's cached transposed weight for batch-1 inference (LinearWeightCache, kernels::
// gemv_transposed_skip_zeros): inference after an optimizer step or a re-initialisation sees the new weight.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "ember/autograd/grad_mode.h"
#include "ember/kernels/parallel.h"
#include "ember/nn/linear.h"
#include "ember/ops/nn_ops.h"
#include "ember/ops/ops.h"
#include "ember/optim/sgd.h"

using namespace ember;

namespace {

// About half zeros, like Fashion-MNIST pixels.
Tensor half_zero_row(int64_t k, Generator& g) {
  Tensor r = randn({1, k}, &g), u = rand({1, k}, &g);
  float* pr = r.data<float>();
  const float* pu = u.data<float>();
  for (int64_t p = 0; p < k; ++p)
    if (pu[p] < 0.5f) pr[p] = 0.f;
  return r;
}

}  // namespace

// nn::Linear keeps its own cache: inference after an optimizer step and after load-style copies sees the new
// weight, and the result does not depend on the thread count.
TEST(GemvTransposed, LinearModuleInferenceAfterUpdates) {
  Generator g(34);
  nn::Linear fc(784, 128, true, &g);
  Tensor x = half_zero_row(784, g);
  auto reference = [&] {
    NoGradGuard ng;
    return linear(x, fc.weight, fc.bias).to_vector<float>();
  };
  auto run = [&] {
    NoGradGuard ng;
    return fc.forward(x).to_vector<float>();
  };
  auto close = [](const std::vector<float>& a, const std::vector<float>& r) {
    ASSERT_EQ(a.size(), r.size());
    for (size_t j = 0; j < r.size(); ++j) EXPECT_NEAR(a[j], r[j], 1e-4f) << "j=" << j;
  };
  for (int i = 0; i < 3; ++i) close(run(), reference());
  const int saved = num_threads();
  set_num_threads(1);
  auto y1 = run();
  set_num_threads(std::max(saved, 2));
  auto y2 = run();
  set_num_threads(saved);
  EXPECT_EQ(y1, y2);
  // A training step on a batch of 2 (the GEMM path), with gradients: SGD updates the weight in place.
  fc.weight.requires_grad_();
  fc.bias.requires_grad_();
  optim::SGD opt({fc.weight, fc.bias}, optim::SGDOptions(0.5));
  Tensor xb = randn({2, 784}, &g);
  sum(fc.forward(xb)).backward();
  opt.step();
  for (int i = 0; i < 3; ++i) close(run(), reference());
  fc.reset_parameters(&g);
  for (int i = 0; i < 3; ++i) close(run(), reference());
}
