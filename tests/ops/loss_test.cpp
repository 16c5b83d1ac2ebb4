#include "ember/kernels/loss.h"

#include <gtest/gtest.h>

#include <cmath>

#include "ember/ops/loss.h"
#include "op_table.h"

using namespace ember;
using test::Inputs;

namespace {
CrossEntropyOptions ce() {
  return CrossEntropyOptions();
}
constexpr Reduction kNone = Reduction::None, kSum = Reduction::Sum;
}  // namespace

static test::OpCaseRegistrar rows({
    {"mse_loss_mean", "mse_loss", [](const Inputs& x) { return mse_loss(x[0], x[1]); }},
    {"mse_loss_sum", "mse_loss", [](const Inputs& x) { return mse_loss(x[0], x[1], kSum); }},
    {"mse_loss_none", "mse_loss", [](const Inputs& x) { return mse_loss(x[0], x[1], kNone); }},
    {"cross_entropy_mean", "cross_entropy", [](const Inputs& x) { return cross_entropy(x[0], x[1]); }},
    {"cross_entropy_sum", "cross_entropy",
     [](const Inputs& x) { return cross_entropy(x[0], x[1], ce().reduction(kSum)); }},
    {"cross_entropy_none", "cross_entropy",
     [](const Inputs& x) { return cross_entropy(x[0], x[1], ce().reduction(kNone)); }},
    {"cross_entropy_weight_mean", "cross_entropy",
     [](const Inputs& x) { return cross_entropy(x[0], x[1], ce().weight(x[2])); }},
    {"cross_entropy_ignore_mean", "cross_entropy",
     [](const Inputs& x) { return cross_entropy(x[0], x[1], ce().ignore_index(2)); }},
    {"cross_entropy_ignore_none", "cross_entropy",
     [](const Inputs& x) { return cross_entropy(x[0], x[1], ce().reduction(kNone)); }},
    {"cross_entropy_smoothing_mean", "cross_entropy",
     [](const Inputs& x) { return cross_entropy(x[0], x[1], ce().label_smoothing(0.2)); }},
    {"cross_entropy_smoothing_weight_ignore", "cross_entropy",
     [](const Inputs& x) {
       return cross_entropy(x[0], x[1], ce().weight(x[2]).ignore_index(1).label_smoothing(0.3));
     }},
    {"cross_entropy_smoothing_weight_none", "cross_entropy",
     [](const Inputs& x) {
       return cross_entropy(x[0], x[1], ce().weight(x[2]).label_smoothing(0.1).reduction(kNone));
     }},
    {"cross_entropy_spatial_weight_mean", "cross_entropy",
     [](const Inputs& x) { return cross_entropy(x[0], x[1], ce().weight(x[2]).label_smoothing(0.1)); }},
    {"cross_entropy_spatial_none", "cross_entropy",
     [](const Inputs& x) { return cross_entropy(x[0], x[1], ce().reduction(kNone)); }},
    {"cross_entropy_prob_mean", "cross_entropy", [](const Inputs& x) { return cross_entropy(x[0], x[1]); }},
    {"cross_entropy_prob_weight_smoothing_sum", "cross_entropy",
     [](const Inputs& x) {
       return cross_entropy(x[0], x[1], ce().weight(x[2]).label_smoothing(0.25).reduction(kSum));
     }},
    {"cross_entropy_prob_weight_mean", "cross_entropy",
     [](const Inputs& x) { return cross_entropy(x[0], x[1], ce().weight(x[2])); }},
    {"cross_entropy_prob_spatial_none", "cross_entropy",
     [](const Inputs& x) { return cross_entropy(x[0], x[1], ce().label_smoothing(0.1).reduction(kNone)); }},
    {"cross_entropy_unbatched", "cross_entropy", [](const Inputs& x) { return cross_entropy(x[0], x[1]); }},
    {"nll_loss_mean", "nll_loss", [](const Inputs& x) { return nll_loss(x[0], x[1]); }},
    {"nll_loss_weight_ignore_mean", "nll_loss",
     [](const Inputs& x) { return nll_loss(x[0], x[1], x[2], 0); }},
    {"nll_loss_spatial_none", "nll_loss",
     [](const Inputs& x) { return nll_loss(x[0], x[1], {}, -100, kNone); }},
    {"nll_loss_weight_sum", "nll_loss",
     [](const Inputs& x) { return nll_loss(x[0], x[1], x[2], -100, kSum); }},
    {"binary_cross_entropy_mean", "binary_cross_entropy",
     [](const Inputs& x) { return binary_cross_entropy(x[0], x[1]); }},
    {"binary_cross_entropy_weight_none", "binary_cross_entropy",
     [](const Inputs& x) { return binary_cross_entropy(x[0], x[1], x[2], kNone); }},
    {"binary_cross_entropy_sum", "binary_cross_entropy",
     [](const Inputs& x) { return binary_cross_entropy(x[0], x[1], {}, kSum); }},
    {"binary_cross_entropy_with_logits_mean", "binary_cross_entropy_with_logits",
     [](const Inputs& x) { return binary_cross_entropy_with_logits(x[0], x[1]); }},
    {"binary_cross_entropy_with_logits_weights_none", "binary_cross_entropy_with_logits",
     [](const Inputs& x) { return binary_cross_entropy_with_logits(x[0], x[1], x[2], x[3], kNone); }},
    {"binary_cross_entropy_with_logits_posweight_sum", "binary_cross_entropy_with_logits",
     [](const Inputs& x) { return binary_cross_entropy_with_logits(x[0], x[1], {}, x[2], kSum); }},
    {"categorical_crossentropy_logits", "categorical_crossentropy",
     [](const Inputs& x) { return categorical_crossentropy(x[0], x[1], true); }},
    {"categorical_crossentropy_probs", "categorical_crossentropy",
     [](const Inputs& x) { return categorical_crossentropy(x[0], x[1], false); }},
    {"categorical_crossentropy_probs_none_3d", "categorical_crossentropy",
     [](const Inputs& x) { return categorical_crossentropy(x[0], x[1], false, kNone); }},
    {"categorical_crossentropy_logits_none", "categorical_crossentropy",
     [](const Inputs& x) { return categorical_crossentropy(x[0], x[1], true, kNone); }},
    {"sparse_categorical_crossentropy_logits", "sparse_categorical_crossentropy",
     [](const Inputs& x) { return sparse_categorical_crossentropy(x[0], x[1], true); }},
    {"sparse_categorical_crossentropy_probs", "sparse_categorical_crossentropy",
     [](const Inputs& x) { return sparse_categorical_crossentropy(x[0], x[1], false); }},
    {"sparse_categorical_crossentropy_probs_none_col", "sparse_categorical_crossentropy",
     [](const Inputs& x) { return sparse_categorical_crossentropy(x[0], x[1], false, kNone); }},
});

namespace {

template <typename Exc, typename F>
std::string message_of(F f) {
  try {
    f();
  } catch (const Exc& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected exception not thrown";
  return "";
}

bool has(const std::string& m, const std::string& s) {
  return m.find(s) != std::string::npos;
}

}  // namespace

TEST(Loss, TargetShapeMismatchNamesLossAndShapes) {
  std::string m = message_of<ShapeError>([] { mse_loss(zeros({2, 3}), zeros({3, 2})); });
  EXPECT_TRUE(has(m, "mse_loss") && has(m, "(2, 3)") && has(m, "(3, 2)")) << m;
  m = message_of<ShapeError>([] { cross_entropy(zeros({4, 5}), zeros({3}, DType::Int64)); });
  EXPECT_TRUE(has(m, "cross_entropy") && has(m, "(4, 5)") && has(m, "(3,)")) << m;
  m = message_of<ShapeError>([] { cross_entropy(zeros({4, 5}), zeros({4, 4})); });
  EXPECT_TRUE(has(m, "cross_entropy") && has(m, "(4, 4)")) << m;
  EXPECT_THROW(nll_loss(zeros({4, 5}), zeros({4, 1}, DType::Int64)), ShapeError);
  EXPECT_THROW(binary_cross_entropy(full({3}, 0.5), zeros({4})), ShapeError);
  EXPECT_THROW(binary_cross_entropy_with_logits(zeros({3}), zeros({3}), zeros({2})), ShapeError);
  EXPECT_THROW(categorical_crossentropy(zeros({2, 4}), zeros({2, 3})), ShapeError);
  EXPECT_THROW(sparse_categorical_crossentropy(zeros({3}, DType::Int64), zeros({2, 3})), ShapeError);
  EXPECT_THROW(
      cross_entropy(zeros({4, 5}), zeros({4}, DType::Int64), CrossEntropyOptions().weight(ones({4}))),
      ShapeError);
}

TEST(Loss, ClassIndexOutOfRangeNamesIndexAndClasses) {
  Tensor t = from_vector(std::vector<int64_t>{0, 7, 1});
  std::string m = message_of<IndexError>([&] { cross_entropy(zeros({3, 5}), t); });
  EXPECT_TRUE(has(m, "cross_entropy") && has(m, "7") && has(m, "5 classes")) << m;
  m = message_of<IndexError>([&] { nll_loss(zeros({3, 5}), from_vector(std::vector<int64_t>{0, -1, 1})); });
  EXPECT_TRUE(has(m, "-1") && has(m, "5 classes")) << m;
  EXPECT_THROW(sparse_categorical_crossentropy(t, full({3, 4}, 0.25)), IndexError);
  // ignore_index itself is allowed even though it is out of range.
  EXPECT_NO_THROW(cross_entropy(zeros({3, 5}), t, CrossEntropyOptions().ignore_index(7)));
}

TEST(Loss, WrongTargetDTypes) {
  EXPECT_THROW(cross_entropy(zeros({2, 3}), zeros({2}, DType::Bool)), DTypeError);
  EXPECT_THROW(cross_entropy(zeros({2, 3}), zeros({2, 3}, DType::Float64)), DTypeError);
  EXPECT_THROW(nll_loss(zeros({2, 3}), zeros({2})), DTypeError);
  EXPECT_THROW(mse_loss(zeros({2}), zeros({2}, DType::Int64)), DTypeError);
  EXPECT_THROW(binary_cross_entropy(full({2}, 0.5), zeros({2}, DType::Float64)), DTypeError);
  EXPECT_THROW(sparse_categorical_crossentropy(zeros({2}), zeros({2, 3})), DTypeError);
  EXPECT_THROW(cross_entropy(zeros({2, 3}, DType::Int64), zeros({2}, DType::Int64)), DTypeError);
  EXPECT_THROW(cross_entropy(zeros({2, 3}), zeros({2, 3}), CrossEntropyOptions().ignore_index(1)),
               ValueError);
  EXPECT_THROW(
      cross_entropy(zeros({2, 3}), zeros({2}, DType::Int64), CrossEntropyOptions().label_smoothing(1.5)),
      ValueError);
}

TEST(Loss, CrossEntropyStableForHugeLogits) {
  Tensor x = tensor({{1000.f, 0.f, -1000.f}, {-1e30f, 1e30f, 0.f}});
  Tensor t = from_vector(std::vector<int64_t>{0, 1});
  x.requires_grad_();
  Tensor l = cross_entropy(x, t, CrossEntropyOptions().reduction(Reduction::Sum));
  EXPECT_NEAR(l.item(), 0.0, 1e-6);
  l.backward();
  for (double v : x.grad().to_double_vector()) EXPECT_TRUE(std::isfinite(v));
}

TEST(Loss, BinaryCrossEntropyClampsLogAt100) {
  Tensor l = binary_cross_entropy(tensor({0.f, 1.f}), tensor({1.f, 0.f}), {}, Reduction::None);
  EXPECT_EQ(l.to_vector<float>(), (std::vector<float>{100.f, 100.f}));
}

TEST(Loss, KerasClipsProbabilities) {
  // sparse: clip first, then renormalise: -log(1e-7 / (1e-7 + 1 + 0.5)) for the zero-probability class.
  Tensor p = tensor({{0.f, 1.f, 0.5f}}).requires_grad_();
  Tensor y = from_vector(std::vector<int64_t>{0});
  double expected = -std::log(1e-7 / (1e-7 + (1 - 1e-7) + 0.5));
  Tensor l = sparse_categorical_crossentropy(y, to(p, DType::Float64), false);
  EXPECT_NEAR(l.item(), expected, 1e-6);
  // categorical: renormalise first, then clip.
  Tensor yc = tensor({{1.f, 0.f, 0.f}});
  Tensor lc = categorical_crossentropy(to(yc, DType::Float64), to(p, DType::Float64), false);
  EXPECT_NEAR(lc.item(), -std::log(1e-7), 1e-6);
  lc.backward();
  EXPECT_TRUE(p.grad().defined());
}

TEST(Loss, LargeCrossEntropyParallelMatchesPerRow) {
  // Many rows take the parallel path; each row's loss must equal a single-row call.
  Tensor x = randn({300, 257});
  std::vector<int64_t> tv(300);
  for (int64_t i = 0; i < 300; ++i) tv[i] = (i * 37) % 257;
  Tensor t = from_vector(tv);
  std::vector<float> all =
      cross_entropy(x, t, CrossEntropyOptions().reduction(Reduction::None)).to_vector<float>();
  for (int64_t i = 0; i < 300; i += 29) {
    Tensor row = cross_entropy(select(x, 0, i), scalar_tensor(static_cast<double>(tv[i]), DType::Int64));
    EXPECT_FLOAT_EQ(all[i], row.item<float>());
  }
}

namespace {

// Fast (kernels/cpu) against reference (kernels/ref) softmax cross-entropy on one configuration.
void compare_fast_to_ref(int64_t n, int64_t c, int64_t d, bool prob, bool weighted, double smoothing,
                         int64_t ignore) {
  SCOPED_TRACE(::testing::Message() << "n=" << n << " c=" << c << " d=" << d << " prob=" << prob
                                    << " weighted=" << weighted << " smoothing=" << smoothing);
  std::vector<float> x = (randn({n, c, d}) * 3.0).to_vector<float>();
  std::vector<float> w = (rand({c}) + 0.5).to_vector<float>();
  std::vector<float> q = (rand({n, c, d}) + 0.01).to_vector<float>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) {
      float s = 0;
      for (int64_t k = 0; k < c; ++k) s += q[(i * c + k) * d + j];
      for (int64_t k = 0; k < c; ++k) q[(i * c + k) * d + j] /= s;
    }
  std::vector<float> g = randn({n * d}).to_vector<float>();
  std::vector<int64_t> t(n * d);
  for (int64_t i = 0; i < n * d; ++i) t[i] = i % 5 == 3 ? ignore : (i * 31 + 7) % c;
  kernels::SoftmaxCeArgs<float> a;
  a.x = x.data();
  a.n = n;
  a.c = c;
  a.d = d;
  if (prob)
    a.target_prob = q.data();
  else
    a.target_index = t.data();
  a.weight = weighted ? w.data() : nullptr;
  a.ignore_index = ignore;
  a.smoothing = smoothing;
  std::vector<float> lse(n * d), loss(n * d), lse_r(n * d), loss_r(n * d);
  std::vector<float> dx(n * c * d), dx_r(n * c * d), dq(n * c * d), dq_r(n * c * d);
  kernels::softmax_ce_forward(a, lse.data(), loss.data());
  kernels::ref::softmax_ce_forward(a, lse_r.data(), loss_r.data());
  kernels::softmax_ce_backward(a, lse.data(), g.data(), true, 0.5, dx.data(), prob ? dq.data() : nullptr);
  kernels::ref::softmax_ce_backward(a, lse_r.data(), g.data(), true, 0.5, dx_r.data(),
                                    prob ? dq_r.data() : nullptr);
  for (int64_t i = 0; i < n * d; ++i) {
    EXPECT_NEAR(lse[i], lse_r[i], 2e-6 * std::abs(lse_r[i]) + 1e-6) << "lse " << i;
    EXPECT_NEAR(loss[i], loss_r[i], 1e-5 * std::abs(loss_r[i]) + 1e-5) << "loss " << i;
  }
  for (int64_t i = 0; i < n * c * d; ++i) {
    EXPECT_NEAR(dx[i], dx_r[i], 1e-5 * std::abs(dx_r[i]) + 1e-6) << "dx " << i;
    if (prob) {
      EXPECT_NEAR(dq[i], dq_r[i], 1e-5 * std::abs(dq_r[i]) + 1e-5) << "dtarget " << i;
    }
  }
}

}  // namespace

TEST(Loss, FastSoftmaxCrossEntropyMatchesReference) {
  compare_fast_to_ref(37, 1003, 1, false, false, 0.0, -100);  // vector body plus a tail of 3
  compare_fast_to_ref(64, 10, 1, false, true, 0.2, -100);
  compare_fast_to_ref(3, 7, 5, false, true, 0.1, 2);  // spatial, strided classes, ignore_index = a real class
  compare_fast_to_ref(9, 33, 1, true, true, 0.3, -100);
  compare_fast_to_ref(2, 6, 4, true, false, 0.0, -100);
  compare_fast_to_ref(2048, 24, 1, false, false, 0.0, -100);  // enough rows for the parallel split
}
