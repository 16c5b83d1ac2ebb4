// A small CNN trained with a hand-written PyTorch-style loop: model, nn::CrossEntropyLoss, optim::Adam,
// zero_grad / backward / step. The data is synthetic: 1x12x12 images of noise with a bright 4x4 square in
// one of four quadrants; the label is the quadrant.
#include <ember/ember.h>

#include <cstdio>
#include <iostream>
#include <memory>

using namespace ember;
namespace nn = ember::nn;

namespace {

// n images (n, 1, 12, 12) and labels (n,) int64.
std::pair<Tensor, Tensor> make_data(int64_t n, Generator& gen) {
  Tensor x = randn({n, 1, 12, 12}, &gen) * 0.3;
  x = copy_as(x, DType::Float32);
  std::vector<int64_t> labels(n);
  float* px = x.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t q = gen.randint(0, 4);
    labels[i] = q;
    const int64_t r0 = (q / 2) * 6 + gen.randint(0, 3), c0 = (q % 2) * 6 + gen.randint(0, 3);
    for (int64_t r = r0; r < r0 + 4; ++r)
      for (int64_t c = c0; c < c0 + 4; ++c) px[i * 144 + r * 12 + c] += 1.0f;
  }
  return {x, from_vector(labels, {n})};
}

}  // namespace

int main() {
  manual_seed(0);
  Generator data_gen(1);
  auto [train_x, train_y] = make_data(512, data_gen);
  auto [test_x, test_y] = make_data(256, data_gen);

  auto model = std::make_shared<nn::Sequential>(
      std::make_shared<nn::Conv2d>(nn::Conv2dOptions(1, 8, 3).padding(1)),
      std::make_shared<nn::BatchNorm2d>(8), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::MaxPool2d>(nn::MaxPool2dOptions(2)),  // 8 x 6 x 6
      std::make_shared<nn::Conv2d>(nn::Conv2dOptions(8, 16, 3).padding(1)), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::GlobalAvgPool2d>(),  // 16
      std::make_shared<nn::Linear>(16, 4));
  std::cout << *model << "\n";
  nn::CrossEntropyLoss criterion;
  optim::Adam optimizer(model->parameters(), optim::AdamOptions(1e-2));

  const int64_t batch = 64, n = train_x.size(0);
  for (int epoch = 1; epoch <= 8; ++epoch) {
    model->train();
    double total = 0;
    int batches = 0;
    for (int64_t start = 0; start < n; start += batch) {
      Tensor xb = slice(train_x, 0, start, start + batch), yb = slice(train_y, 0, start, start + batch);
      optimizer.zero_grad();
      Tensor loss = criterion(model->forward(xb), yb);
      loss.backward();
      optimizer.step();
      total += loss.item();
      ++batches;
    }
    model->eval();
    NoGradGuard no_grad;
    Tensor pred = argmax(model->forward(test_x), 1);
    auto p = pred.to_double_vector(), t = test_y.to_double_vector();
    int correct = 0;
    for (size_t i = 0; i < p.size(); ++i) correct += p[i] == t[i];
    std::printf("epoch %d  train loss %.4f  test accuracy %.3f\n", epoch, total / batches,
                static_cast<double>(correct) / static_cast<double>(p.size()));
  }
  return 0;
}
