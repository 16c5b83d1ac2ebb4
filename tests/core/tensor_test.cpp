#include <gtest/gtest.h>

#include "ember/core/allocator.h"
#include "ember/core/random.h"
#include "ember/core/tensor.h"

using namespace ember;

TEST(Shape, BasicsAndHeapFallback) {
  Shape s{2, 3, 4};
  EXPECT_EQ(s.size(), 3u);
  EXPECT_EQ(s.numel(), 24);
  EXPECT_EQ(s.to_string(), "(2, 3, 4)");
  EXPECT_EQ(Shape{5}.to_string(), "(5,)");
  Shape big{1, 2, 3, 4, 5, 6, 7, 8};  // beyond the inline capacity
  EXPECT_EQ(big.numel(), 40320);
  Shape copy = big;
  copy.push_back(2);
  EXPECT_EQ(copy.size(), 9u);
  EXPECT_EQ(big.size(), 8u);
  Shape moved = std::move(copy);
  EXPECT_EQ(moved[8], 2);
  moved.erase(0);
  EXPECT_EQ(moved[0], 2);
  moved.insert(0, 9);
  EXPECT_EQ(moved[0], 9);
}

TEST(Shape, BroadcastAndAxes) {
  EXPECT_EQ(broadcast_shapes({3, 1, 5}, {4, 1}, "t"), (Shape{3, 4, 5}));
  EXPECT_THROW(broadcast_shapes({3, 2}, {4}, "add"), ShapeError);
  try {
    broadcast_shapes({3, 2}, {4}, "add");
  } catch (const ShapeError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("add"), std::string::npos);
    EXPECT_NE(m.find("(3, 2)"), std::string::npos);
    EXPECT_NE(m.find("(4,)"), std::string::npos);
  }
  EXPECT_EQ(normalize_axis(-1, 3, "t"), 2);
  EXPECT_THROW(normalize_axis(3, 3, "sum"), IndexError);
  EXPECT_EQ(contiguous_strides({2, 3, 4}), (Shape{12, 4, 1}));
}

TEST(Tensor, FactoriesAndAccess) {
  Tensor z = zeros({2, 3});
  EXPECT_EQ(z.numel(), 6);
  EXPECT_EQ(z.at<float>({1, 2}), 0.f);
  Tensor o = ones({4}, DType::Float64);
  EXPECT_EQ(o.dtype(), DType::Float64);
  EXPECT_EQ(o.at({3}), 1.0);
  Tensor f = full({2}, 3.5);
  EXPECT_FLOAT_EQ(f.at<float>({1}), 3.5f);
  Tensor a = arange(0, 5, 2);
  EXPECT_EQ(a.numel(), 3);
  EXPECT_EQ(a.to_vector<float>(), (std::vector<float>{0, 2, 4}));
  Tensor ai = arange(4);
  EXPECT_EQ(ai.dtype(), DType::Int64);
  Tensor e = eye(3);
  EXPECT_EQ(e.at({1, 1}), 1.0);
  EXPECT_EQ(e.at({1, 0}), 0.0);
  Tensor v = from_vector(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(v.at<float>({1, 0}), 4.f);
  EXPECT_THROW(from_vector(std::vector<float>{1, 2, 3}, {2, 2}), ShapeError);
  Tensor t2 = tensor({{1, 2}, {3, 4}});
  EXPECT_EQ(t2.shape(), (Shape{2, 2}));
  EXPECT_EQ(t2.at<float>({1, 1}), 4.f);
  EXPECT_THROW(t2.at({2, 0}), IndexError);
  EXPECT_THROW(t2.at({0}), IndexError);
  EXPECT_EQ(t2.at<float>({-1, -1}), 4.f);
  EXPECT_THROW(t2.item(), ValueError);
  EXPECT_EQ(scalar_tensor(2.5).item(), 2.5);
  EXPECT_THROW(t2.data<double>(), DTypeError);
  EXPECT_THROW(empty({2, -1}), ValueError);
}

TEST(Tensor, StorageIsAlignedAndShared) {
  Tensor t = empty({3, 7});
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data<float>()) % 64, 0u);
  Tensor v = as_strided(t, {7, 3}, {1, 7}, 0);
  EXPECT_EQ(v.storage(), t.storage());
  EXPECT_FALSE(v.is_contiguous());
  t.set({0, 1}, 5.0);
  EXPECT_EQ(v.at({1, 0}), 5.0);
  Tensor c = contiguous_data(v);
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_NE(c.storage(), t.storage());
  EXPECT_EQ(c.at({1, 0}), 5.0);
}

TEST(Tensor, CopyAndConvert) {
  Tensor t = tensor({1.5f, -2.f, 3.f});
  Tensor d = copy_as(t, DType::Float64);
  EXPECT_EQ(d.dtype(), DType::Float64);
  EXPECT_EQ(d.at({0}), 1.5);
  Tensor i = copy_as(t, DType::Int64);
  EXPECT_EQ(i.at({1}), -2.0);
  Tensor dst = zeros({3});
  copy_into(dst, t);
  EXPECT_EQ(dst.to_vector<float>(), t.to_vector<float>());
  EXPECT_THROW(copy_into(zeros({2}), t), ShapeError);
}

TEST(Tensor, PrintingTruncates) {
  Tensor t = arange(0, 100, 1).detach();
  std::string s = t.to_string();
  EXPECT_NE(s.find("shape=(100,)"), std::string::npos);
  EXPECT_NE(s.find("..."), std::string::npos);
  EXPECT_NE(s.find("99"), std::string::npos);
  EXPECT_EQ(s.find("50"), std::string::npos);
  std::string m = tensor({{1, 2}, {3, 4}}).to_string();
  EXPECT_NE(m.find("[[1, 2],\n [3, 4]]"), std::string::npos);
}

TEST(Random, SeededAndReproducible) {
  manual_seed(1);
  Tensor a = randn({100});
  manual_seed(1);
  Tensor b = randn({100});
  EXPECT_EQ(a.to_vector<float>(), b.to_vector<float>());
  Generator g(3);
  Tensor u = rand({10000}, &g);
  double mean = 0;
  for (float x : u.to_vector<float>()) {
    EXPECT_GE(x, 0.f);
    EXPECT_LT(x, 1.f);
    mean += x;
  }
  EXPECT_NEAR(mean / 10000, 0.5, 0.02);
  Tensor n = randn({20000}, &g);
  double m = 0, v = 0;
  for (float x : n.to_vector<float>()) m += x;
  m /= 20000;
  for (float x : n.to_vector<float>()) v += (x - m) * (x - m);
  EXPECT_NEAR(m, 0, 0.03);
  EXPECT_NEAR(v / 20000, 1, 0.05);
  Tensor r = randint(3, 7, {1000}, &g);
  for (int64_t x : r.to_vector<int64_t>()) {
    EXPECT_GE(x, 3);
    EXPECT_LT(x, 7);
  }
  Tensor p = randperm(10, &g);
  auto pv = p.to_vector<int64_t>();
  std::sort(pv.begin(), pv.end());
  for (int64_t i = 0; i < 10; ++i) EXPECT_EQ(pv[i], i);
}

TEST(Allocator, ReusesFreedBlocks) {
  auto& alloc = CachingAllocator::instance();
  { Tensor t = empty({1000, 1000}); }
  AllocatorStats before = alloc.stats();
  for (int i = 0; i < 10; ++i) {
    Tensor t = empty({1000, 1000});
  }
  AllocatorStats after = alloc.stats();
  EXPECT_EQ(after.system_allocs, before.system_allocs);
  EXPECT_GE(after.cache_hits, before.cache_hits + 10);
  EXPECT_EQ(CachingAllocator::round_size(1), 64u);
  EXPECT_EQ(CachingAllocator::round_size(1025), 1280u);
  EXPECT_GE(CachingAllocator::round_size(4000001), 4000001u);
  EXPECT_LE(CachingAllocator::round_size(4000001), 5000002u);
}
