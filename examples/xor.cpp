// XOR with a 2-8-1 network, written directly on tensors and autograd: forward, loss, backward, gradient
// descent. The smallest program that shows reverse-mode differentiation at work.
#include <ember/ember.h>

#include <cstdio>

using namespace ember;

int main() {
  manual_seed(42);
  Tensor x = tensor({{0.f, 0.f}, {0.f, 1.f}, {1.f, 0.f}, {1.f, 1.f}});
  Tensor y = tensor({0, 1, 1, 0}, {4, 1});
  Tensor w1 = (randn({2, 8}) * 1.0).detach().requires_grad_();
  Tensor b1 = zeros({8}).requires_grad_();
  Tensor w2 = (randn({8, 1}) * 0.5).detach().requires_grad_();
  Tensor b2 = zeros({1}).requires_grad_();
  std::vector<Tensor> params{w1, b1, w2, b2};
  const double lr = 0.5;
  double loss_value = 0;
  for (int epoch = 1; epoch <= 2000; ++epoch) {
    Tensor h = tanh(matmul(x, w1) + b1);
    Tensor p = sigmoid(matmul(h, w2) + b2);
    Tensor loss = mean(square(p - y));
    for (auto& t : params) t.zero_grad();
    loss.backward();
    {
      NoGradGuard no_grad;
      for (auto& t : params) copy_into(t, t - t.grad() * lr);
    }
    loss_value = loss.item();
    if (epoch == 1 || epoch % 250 == 0) std::printf("epoch %4d  loss %.6f\n", epoch, loss_value);
  }
  NoGradGuard no_grad;
  Tensor p = sigmoid(matmul(tanh(matmul(x, w1) + b1), w2) + b2);
  int correct = 0;
  for (int i = 0; i < 4; ++i) {
    double pi = p.at({i, 0});
    int want = static_cast<int>(y.at({i, 0}));
    correct += (pi > 0.5) == (want == 1);
    std::printf("xor(%g, %g) = %.4f (want %d)\n", x.at({i, 0}), x.at({i, 1}), pi, want);
  }
  std::printf("accuracy %d/4, final loss %.6f\n", correct, loss_value);
  return correct == 4 ? 0 : 1;
}
