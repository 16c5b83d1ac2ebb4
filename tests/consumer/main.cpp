// Built against an installed Ember by scripts/test.sh: fits y = 2x + 1 by gradient descent.
#include <ember/ember.h>

#include <cmath>
#include <cstdio>

int main() {
  ember::manual_seed(0);
  ember::Tensor x = ember::randn({64, 1});
  ember::Tensor y = x * 2.0 + 1.0;
  ember::Tensor w = ember::zeros({1, 1}).requires_grad_();
  ember::Tensor b = ember::zeros({1}).requires_grad_();
  for (int step = 0; step < 200; ++step) {
    ember::Tensor loss = ember::mean(ember::square(ember::matmul(x, w) + b - y));
    w.zero_grad();
    b.zero_grad();
    loss.backward();
    ember::NoGradGuard ng;
    ember::copy_into(w, w - w.grad() * 0.1);
    ember::copy_into(b, b - b.grad() * 0.1);
  }
  double wv = w.item(), bv = b.item();
  std::printf("consumer: w = %.4f, b = %.4f\n", wv, bv);
  return std::abs(wv - 2) < 1e-3 && std::abs(bv - 1) < 1e-3 ? 0 : 1;
}
