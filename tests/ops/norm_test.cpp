#include <gtest/gtest.h>

#include "ember/kernels/conv.h"
#include "ember/ops/conv.h"
#include "op_table.h"

using namespace ember;
using test::Inputs;

static test::OpCaseRegistrar rows({
    {"batch_norm_train_4d", "batch_norm",
     [](const Inputs& x) { return batch_norm(x[0], x[1], x[2], clone(x[3]), clone(x[4]), true); }},
    {"batch_norm_train_2d", "batch_norm",
     [](const Inputs& x) { return batch_norm(x[0], x[1], x[2], Tensor(), Tensor(), true, 0.1, 1e-3); }},
    {"batch_norm_train_no_affine", "batch_norm",
     [](const Inputs& x) { return batch_norm(x[0], Tensor(), Tensor(), Tensor(), Tensor(), true); }},
    {"batch_norm_eval_4d", "batch_norm",
     [](const Inputs& x) { return batch_norm(x[0], x[1], x[2], x[3], x[4], false); }},
    // One training step's running statistics (momentum 0.3), concatenated: mean then unbiased variance.
    {"batch_norm_running_stats", "batch_norm",
     [](const Inputs& x) {
       Tensor rm = clone(x[3]), rv = clone(x[4]);
       batch_norm(x[0], x[1], x[2], rm, rv, true, 0.3);
       std::vector<double> v = rm.to_double_vector(), w = rv.to_double_vector();
       v.insert(v.end(), w.begin(), w.end());
       return copy_as(from_vector(v), rm.dtype());
     }},
    {"layer_norm_last", "layer_norm", [](const Inputs& x) { return layer_norm(x[0], {4}, x[1], x[2]); }},
    {"layer_norm_two_dims", "layer_norm",
     [](const Inputs& x) {
       return layer_norm(x[0], {3, 4}, x[1], x[2], 1e-3);
     }},
    {"layer_norm_no_affine", "layer_norm", [](const Inputs& x) { return layer_norm(x[0], {5}); }},
});

namespace {
Tensor square_of(const Tensor& t) {
  return mul(t, t);
}
}  // namespace

TEST(BatchNorm, FastMatchesReference) {
  const int64_t n = 8, c = 5, s = 37;
  Tensor x = add(mul(randn({n, c, s}), 3.0), 2.0), w = randn({c}), b = randn({c}), dy = randn({n, c, s});
  for (bool training : {true, false}) {
    Tensor rm = randn({c}), rv = add(square_of(randn({c})), 0.5);
    Tensor rm2 = clone(rm), rv2 = clone(rv);
    Tensor y = empty(x.shape()), y2 = empty(x.shape()), mu = empty({c}), mu2 = empty({c}), is = empty({c}),
           is2 = empty({c});
    kernels::batch_norm_forward<float>(n, c, s, x.data<float>(), w.data<float>(), b.data<float>(),
                                       y.data<float>(), training, 0.1, 1e-5, rm.data<float>(),
                                       rv.data<float>(), mu.data<float>(), is.data<float>());
    kernels::batch_norm_forward_ref<float>(n, c, s, x.data<float>(), w.data<float>(), b.data<float>(),
                                           y2.data<float>(), training, 0.1, 1e-5, rm2.data<float>(),
                                           rv2.data<float>(), mu2.data<float>(), is2.data<float>());
    auto close = [](const Tensor& a, const Tensor& r, const char* what) {
      auto av = a.to_vector<float>(), rvv = r.to_vector<float>();
      for (size_t i = 0; i < av.size(); ++i)
        EXPECT_NEAR(av[i], rvv[i], 1e-4 * (1 + std::abs(rvv[i]))) << what << i;
    };
    close(y, y2, "y");
    close(rm, rm2, "running_mean");
    close(rv, rv2, "running_var");
    Tensor dx = empty(x.shape()), dx2 = empty(x.shape()), dw = empty({c}), dw2 = empty({c}), db = empty({c}),
           db2 = empty({c});
    kernels::batch_norm_backward<float>(n, c, s, x.data<float>(), dy.data<float>(), w.data<float>(),
                                        mu.data<float>(), is.data<float>(), training, dx.data<float>(),
                                        dw.data<float>(), db.data<float>());
    kernels::batch_norm_backward_ref<float>(n, c, s, x.data<float>(), dy.data<float>(), w.data<float>(),
                                            mu.data<float>(), is.data<float>(), training, dx2.data<float>(),
                                            dw2.data<float>(), db2.data<float>());
    close(dx, dx2, "dx");
    close(dw, dw2, "dw");
    close(db, db2, "db");
  }
}

TEST(BatchNorm, UpdatesRunningStatsInPlaceOnlyWhenTraining) {
  Tensor x = randn({6, 2, 3, 3});
  Tensor rm = zeros({2}), rv = ones({2});
  batch_norm(x, Tensor(), Tensor(), rm, rv, false);
  EXPECT_EQ(rm.to_vector<float>(), (std::vector<float>{0, 0}));
  batch_norm(x, Tensor(), Tensor(), rm, rv, true);
  for (int64_t c = 0; c < 2; ++c) {
    double s = 0, sq = 0;
    for (int64_t i = 0; i < 6; ++i)
      for (int64_t k = 0; k < 9; ++k) s += x.at({i, c, k / 3, k % 3});
    const double mu = s / 54;
    for (int64_t i = 0; i < 6; ++i)
      for (int64_t k = 0; k < 9; ++k)
        sq += (x.at({i, c, k / 3, k % 3}) - mu) * (x.at({i, c, k / 3, k % 3}) - mu);
    EXPECT_NEAR(rm.at({c}), 0.1 * mu, 1e-6);
    EXPECT_NEAR(rv.at({c}), 0.9 + 0.1 * sq / 53, 1e-5);
  }
}

TEST(BatchNorm, Errors) {
  EXPECT_THROW(batch_norm(zeros({4, 3}), zeros({2}), Tensor(), Tensor(), Tensor(), true), ShapeError);
  EXPECT_THROW(batch_norm(zeros({1, 3}), Tensor(), Tensor(), Tensor(), Tensor(), true), ValueError);
  EXPECT_THROW(batch_norm(zeros({4, 3}), Tensor(), Tensor(), Tensor(), Tensor(), false), ValueError);
  EXPECT_THROW(layer_norm(zeros({4, 3}), {4}), ShapeError);
}
