// Matrix multiply kernels, row-major: C = alpha * op(A) * op(B) + beta * C, op = transpose when the flag is set.
// float goes to oneDNN's dnnl_sgemm (measured faster than OpenBLAS on this CPU, see bench/); double and the
// reference used by tests and benchmarks are plain loops.
#pragma once

#include <cstdint>

namespace ember::kernels {

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
          const double* b, int64_t ldb, double beta, double* c, int64_t ldc);

// Matrix-vector product for batch-1 layers: y[j] = act(sum_p w[j * ldw + p] * x[p] + bias[j]) for j < n, W
// (n, k) row-major; bias may be null; relu applies max(., 0) (NaN kept). float: AVX2 kernel in
// src/kernels/cpu/gemv.cpp, rows split over the threads only for a large W (bitwise the same either way).
//   kernels::gemv(out, in, w, in, x, b, /*relu=*/true, y);
void gemv(int64_t n, int64_t k, const float* w, int64_t ldw, const float* x, const float* bias, bool relu,
          float* y);
void gemv(int64_t n, int64_t k, const double* w, int64_t ldw, const double* x, const double* bias, bool relu,
          double* y);

// The batch-1 product on a transposed copy of W that skips the zero entries of x: y = act(b + sum over
// x[p] != 0 of x[p] * Wt[p][:]). Fashion-MNIST pixels and ReLU outputs are about half zeros, so about half of
// the weight is read (128x784, half zeros: ~3.1 µs against ~6 µs for gemv; all nonzero: about the same as
// gemv). Wt is (k, gemv_transposed_ld(n)) row-major, filled by gemv_pack_transposed (zero padding columns).
// Equal to the dense product (up to float rounding) only for a finite W: 0 * inf is NaN there and skipped
// here, so pack reports finiteness and the caller must use gemv for a weight with inf or NaN. When more than
// max_density * k inputs are nonzero nothing is written and false is returned (use gemv, which streams W
// faster than the scattered rows). One thread; each output sums its nonzero terms in input order, so the
// result does not depend on the thread count.
//   std::vector<float> wt(k * gemv_transposed_ld(n));
//   if (!gemv_pack_transposed(n, k, w, k, wt.data()) ||
//       !gemv_transposed_skip_zeros(n, k, wt.data(), x, b, true, y)) gemv(n, k, w, k, x, b, true, y);
int64_t gemv_transposed_ld(int64_t n);
// Returns whether every weight is finite.
bool gemv_pack_transposed(int64_t n, int64_t k, const float* w, int64_t ldw, float* wt);
bool gemv_transposed_skip_zeros(int64_t n, int64_t k, const float* wt, const float* x, const float* bias,
                                bool relu, float* y, double max_density = 0.9);

template <typename T>
void gemv_ref(int64_t n, int64_t k, const T* w, int64_t ldw, const T* x, const T* bias, bool relu, T* y) {
  for (int64_t j = 0; j < n; ++j) {
    T acc = 0;
    for (int64_t p = 0; p < k; ++p) acc += w[j * ldw + p] * x[p];
    if (bias) acc += bias[j];
    y[j] = relu && acc < T(0) ? T(0) : acc;
  }
}

// The readable reference: the oracle for the fast path.
template <typename T>
void gemm_ref(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
              const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      T acc = 0;
      for (int64_t p = 0; p < k; ++p) {
        T x = trans_a ? a[p * lda + i] : a[i * lda + p];
        T y = trans_b ? b[j * ldb + p] : b[p * ldb + j];
        acc += x * y;
      }
      c[i * ldc + j] = alpha * acc + (beta == T(0) ? T(0) : beta * c[i * ldc + j]);
    }
}

}  // namespace ember::kernels
