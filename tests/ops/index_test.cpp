#include "ember/kernels/index.h"

#include <gtest/gtest.h>

#include "ember/autograd/node.h"
#include "op_table.h"

using namespace ember;
using test::Inputs;

namespace {
Tensor weighted_concat(const std::vector<Tensor>& parts, int64_t axis) {
  std::vector<Tensor> w;
  for (size_t k = 0; k < parts.size(); ++k) w.push_back(parts[k] * static_cast<double>(k + 1));
  return concat(w, axis);
}
}  // namespace

static test::OpCaseRegistrar rows({
    {"concat_axis0", "concat",
     [](const Inputs& x) {
       return concat({x[0], x[1], x[2]}, 0);
     }},
    {"concat_axis1_neg", "concat",
     [](const Inputs& x) {
       return concat({x[0], x[1]}, -1);
     }},
    {"concat_one_needs_grad", "concat",
     [](const Inputs& x) {
       return concat({x[0], x[1]}, 1);
     }},
    {"concat_int64", "concat",
     [](const Inputs& x) {
       return concat({x[0], x[1]}, 0);
     }},
    {"stack_axis0", "stack",
     [](const Inputs& x) {
       return stack({x[0], x[1]}, 0);
     }},
    {"stack_axis_last", "stack",
     [](const Inputs& x) {
       return stack({x[0], x[1], x[2]}, -1);
     }},
    {"split_size_weighted", "split", [](const Inputs& x) { return weighted_concat(split(x[0], 2, 1), 1); }},
    {"split_sizes_some_unused", "split",
     [](const Inputs& x) {
       return split(x[0], {1, 3, 2}, 0)[1] * 2.0;
     }},
    {"split_two_pieces_used", "split",
     [](const Inputs& x) {
       auto p = split(x[0], std::vector<int64_t>{2, 1, 2}, 1);
       return p[0] * sum(p[2]);
     }},
    {"chunk_uneven", "chunk", [](const Inputs& x) { return weighted_concat(chunk(x[0], 3, 0), 0); }},
    {"chunk_last_axis", "chunk", [](const Inputs& x) { return chunk(x[0], 2, -1)[1] * 3.0; }},
    {"index_select_rows_repeat", "index_select", [](const Inputs& x) { return index_select(x[0], 0, x[1]); }},
    {"index_select_axis1", "index_select", [](const Inputs& x) { return index_select(x[0], 1, x[1]); }},
    {"index_select_int64", "index_select", [](const Inputs& x) { return index_select(x[0], 1, x[1]); }},
    {"gather_axis1", "gather", [](const Inputs& x) { return gather(x[0], 1, x[1]); }},
    {"gather_axis0_smaller", "gather", [](const Inputs& x) { return gather(x[0], 0, x[1]); }},
    {"gather_3d_middle", "gather", [](const Inputs& x) { return gather(x[0], 1, x[1]); }},
    {"masked_fill_broadcast", "masked_fill", [](const Inputs& x) { return masked_fill(x[0], x[1], -1.5); }},
    {"masked_fill_same_shape", "masked_fill", [](const Inputs& x) { return masked_fill(x[0], x[1], 0.0); }},
    {"where_same_shape", "where", [](const Inputs& x) { return where(x[0], x[1], x[2]); }},
    {"where_broadcast", "where", [](const Inputs& x) { return where(x[0], x[1], x[2]); }},
    {"where_scalar_like_b", "where", [](const Inputs& x) { return where(x[0], x[1], x[2]); }},
});

TEST(Index, ErrorsNameTheProblem) {
  Tensor x = zeros({3, 4});
  Tensor idx = from_vector(std::vector<int64_t>{0, 5});
  try {
    index_select(x, 1, idx);
    FAIL() << "expected IndexError";
  } catch (const IndexError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("index 5"), std::string::npos) << m;
    EXPECT_NE(m.find("size 4"), std::string::npos) << m;
  }
  try {
    concat({zeros({2, 3}), zeros({2, 4})}, 0);
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("(2, 3)"), std::string::npos) << m;
    EXPECT_NE(m.find("(2, 4)"), std::string::npos) << m;
    EXPECT_NE(m.find("axis 0"), std::string::npos) << m;
  }
  EXPECT_THROW(index_select(x, 0, tensor({0.0f})), DTypeError);
  EXPECT_THROW(gather(x, 0, zeros({3, 4})), DTypeError);
  EXPECT_THROW(gather(x, 1, from_vector(std::vector<int64_t>{-1}, {1, 1})), IndexError);
  EXPECT_THROW(gather(x, 1, from_vector(std::vector<int64_t>{0}, {1})), ShapeError);
  EXPECT_THROW(gather(x, 1, zeros({4, 1}, DType::Int64)), ShapeError);
  EXPECT_THROW(concat({}, 0), ValueError);
  EXPECT_THROW(stack({}, 0), ValueError);
  EXPECT_THROW(stack({zeros({2}), zeros({3})}, 0), ShapeError);
  EXPECT_THROW(concat({zeros({2}), zeros({2}, DType::Float64)}, 0), DTypeError);
  EXPECT_THROW(concat({zeros({2})}, 1), IndexError);
  EXPECT_THROW(split(x, {1, 1}, 0), ShapeError);
  EXPECT_THROW(split(x, 0, 0), ValueError);
  EXPECT_THROW(chunk(x, 0, 0), ValueError);
  EXPECT_THROW(masked_fill(x, zeros({3, 4}), 1.0), DTypeError);
  EXPECT_THROW(masked_fill(zeros({4}), zeros({3, 4}, DType::Bool), 1.0), ShapeError);
  EXPECT_THROW(where(zeros({3}, DType::Bool), zeros({3}), zeros({3}, DType::Float64)), DTypeError);
  EXPECT_THROW(where(zeros({3}, DType::Bool), zeros({4}), zeros({4})), ShapeError);
}

TEST(Index, SplitAndChunkShapes) {
  Tensor x = arange(0.0, 10.0, 1.0);
  auto p = split(x, 4);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[2].to_vector<float>(), (std::vector<float>{8, 9}));
  EXPECT_EQ(p[1].storage(), x.storage());    // pieces are views
  auto c = chunk(arange(0.0, 6.0, 1.0), 4);  // like torch.chunk: 3 chunks of 2
  ASSERT_EQ(c.size(), 3u);
  auto z = split(x, std::vector<int64_t>{0, 10});
  EXPECT_EQ(z[0].numel(), 0);
  Tensor s = stack({tensor({1, 2}), tensor({3, 4})}, 1);
  EXPECT_EQ(s.shape(), (Shape{2, 2}));
  EXPECT_EQ(s.to_vector<float>(), (std::vector<float>{1, 3, 2, 4}));
}

// Only the pieces that were used receive gradient; the rest of the input's gradient is zero, and a backward
// through a retained graph twice accumulates.
TEST(Index, SplitBackwardFillsUnusedPiecesWithZeros) {
  Tensor x = randn({5, 2}).requires_grad_();
  auto p = split(x, std::vector<int64_t>{1, 2, 2}, 0);
  Tensor loss = sum(p[1] * 3.0);
  loss.backward(Tensor(), true);
  std::vector<float> want{0, 0, 3, 3, 3, 3, 0, 0, 0, 0};
  EXPECT_EQ(x.grad().to_vector<float>(), want);
  loss.backward();
  for (auto& w : want) w *= 2;
  EXPECT_EQ(x.grad().to_vector<float>(), want);
  // autograd::grad through a split.
  Tensor y = randn({4}).requires_grad_();
  auto q = chunk(y, 2);
  auto g = autograd::grad(sum(q[0] * q[1]), {y});
  EXPECT_EQ(g[0].to_vector<float>(),
            (std::vector<float>{y.at<float>({2}), y.at<float>({3}), y.at<float>({0}), y.at<float>({1})}));
}

TEST(Index, ConcatOfStridedAndBoolInputs) {
  Tensor a = randn({3, 4});
  Tensor t = transpose(a, 0, 1);  // (4, 3), strided
  Tensor c = concat({t, zeros({1, 3})}, 0);
  EXPECT_EQ(c.shape(), (Shape{5, 3}));
  EXPECT_EQ(c.at({3, 2}), a.at({2, 3}));
  Tensor m = concat({gt(a, 0.0), lt(a, 0.0)}, 1);
  EXPECT_EQ(m.dtype(), DType::Bool);
  EXPECT_EQ(m.at({1, 5}) != 0, a.at({1, 1}) < 0);
}

TEST(Index, MaskedFillAndWhereOnIntegers) {
  Tensor x = from_vector(std::vector<int64_t>{1, 2, 3, 4}, {2, 2});
  Tensor m = gt(x, 2.0);
  EXPECT_EQ(masked_fill(x, m, -7).to_vector<int64_t>(), (std::vector<int64_t>{1, 2, -7, -7}));
  EXPECT_EQ(where(m, x, from_vector(std::vector<int64_t>{0})).to_vector<int64_t>(),
            (std::vector<int64_t>{0, 0, 3, 4}));
}

// The fast indexing kernels against their readable references, on sizes that take the parallel paths.
TEST(Index, FastKernelsMatchReference) {
  Tensor x = randn({32, 200, 20});
  for (int64_t axis = 0; axis < 3; ++axis) {
    int64_t n = x.shape()[axis];
    std::vector<int64_t> iv;
    for (int64_t j = 0; j < 2 * n; ++j) iv.push_back((j * 7 + 3) % n);
    Tensor idx = from_vector(iv);
    Shape os = x.shape();
    os[axis] = 2 * n;
    Tensor o1 = empty(os), o2 = empty(os);
    kernels::index_select(x, axis, idx, o1);
    kernels::index_select_ref(x, axis, idx, o2);
    EXPECT_EQ(o1.to_vector<float>(), o2.to_vector<float>()) << "index_select axis " << axis;
    Tensor d1 = zeros(x.shape()), d2 = zeros(x.shape());
    kernels::index_add(o1, axis, idx, d1);
    kernels::index_add_ref(o1, axis, idx, d2);
    EXPECT_EQ(d1.to_vector<float>(), d2.to_vector<float>()) << "index_add axis " << axis;

    // gather with an index smaller than x in the other dimensions (the non-dense path) and full-size.
    for (bool smaller : {false, true}) {
      Shape is = x.shape();
      is[axis] = n + 3;
      if (smaller)
        for (int64_t d = 0; d < 3; ++d)
          if (d != axis) is[d] -= 1;
      std::vector<int64_t> gv(is.numel());
      for (size_t e = 0; e < gv.size(); ++e) gv[e] = static_cast<int64_t>((e * 2654435761u) % n);
      Tensor gi = from_vector(gv, is);
      Tensor g1 = empty(is), g2 = empty(is);
      kernels::gather(x, axis, gi, g1);
      kernels::gather_ref(x, axis, gi, g2);
      EXPECT_EQ(g1.to_vector<float>(), g2.to_vector<float>()) << "gather axis " << axis;
      Tensor s1 = zeros(x.shape()), s2 = zeros(x.shape());
      kernels::scatter_add(g1, axis, gi, s1);
      kernels::scatter_add_ref(g1, axis, gi, s2);
      EXPECT_EQ(s1.to_vector<float>(), s2.to_vector<float>()) << "scatter_add axis " << axis;
    }
  }
}

// The branch-free dense select (all operands contiguous, result-sized or single values) against element access.
TEST(Index, DenseSelectPathsMatchElementwise) {
  Tensor x = randn({300, 200}), y = randn({300, 200});
  Tensor m = gt(randn({300, 200}), 0.0);
  std::vector<double> xv = x.to_double_vector(), yv = y.to_double_vector(), mv = m.to_double_vector();
  std::vector<double> w = where(m, x, y).to_double_vector();
  std::vector<double> f = masked_fill(x, m, 2.5).to_double_vector();
  std::vector<double> s = where(m, x, scalar_tensor(-1.0)).to_double_vector();
  int bad = 0;
  for (size_t i = 0; i < xv.size(); ++i) {
    bad += w[i] != (mv[i] != 0 ? xv[i] : yv[i]);
    bad += f[i] != (mv[i] != 0 ? 2.5 : xv[i]);
    bad += s[i] != (mv[i] != 0 ? xv[i] : -1.0);
  }
  EXPECT_EQ(bad, 0);
  Tensor xg = x.detach().requires_grad_();
  sum(masked_fill(xg, m, 0.0)).backward();
  std::vector<double> g = xg.grad().to_double_vector();
  for (size_t i = 0; i < g.size(); ++i) bad += g[i] != (mv[i] != 0 ? 0.0 : 1.0);
  EXPECT_EQ(bad, 0);
}
