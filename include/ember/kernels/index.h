// Kernels for joining, indexing and arg-reductions along one axis (no autograd, no argument checking: the ops
// layer validates shapes, dtypes and index ranges first). Tensors are viewed as (outer, n, inner) blocks
// around the axis. Each fast kernel has a readable `_ref` twin that the tests use as its oracle.
//
//   Tensor out = empty(shape, x.dtype());
//   kernels::index_select(x, axis, index, out);          // out[o, j, i] = x[o, index[j], i]
//   kernels::index_add(grad, axis, index, dx);           // dx[o, index[j], i] += grad[o, j, i]
#pragma once

#include <vector>

#include "ember/core/tensor.h"

namespace ember::kernels {

// Writes the inputs one after another along `axis` into the contiguous `out`. An undefined input writes zeros
// over `sizes[k]` positions (used by split's backward for pieces that received no gradient).
void concat_into(const std::vector<Tensor>& xs, const std::vector<int64_t>& sizes, int64_t axis,
                 const Tensor& out);

// out[o, j, i] = x[o, index[j], i]; index is int64 1-D, out contiguous. Any dtype.
void index_select(const Tensor& x, int64_t axis, const Tensor& index, const Tensor& out);
// dx[o, index[j], i] += g[o, j, i]; dx contiguous floating (repeated indices add up in index order).
void index_add(const Tensor& g, int64_t axis, const Tensor& index, const Tensor& dx);

// torch.gather: out[..., j, ...] = x[..., index[..., j, ...], ...] along `axis`; out has index's shape.
void gather(const Tensor& x, int64_t axis, const Tensor& index, const Tensor& out);
// The adjoint of gather: dx[..., index[..., j, ...], ...] += g[..., j, ...]; dx contiguous floating.
void scatter_add(const Tensor& g, int64_t axis, const Tensor& index, const Tensor& dx);

// Max (is_max) or min along `axis` with the index of its first occurrence; values and indices are contiguous
// tensors of x's shape with `axis` set to 1. NaN wins, like PyTorch.
void minmax_axis(const Tensor& x, int64_t axis, bool is_max, const Tensor& values, const Tensor& indices);
// Flat (row-major) index of the first maximum (is_max) or minimum over all elements (NaN wins); x non-empty.
int64_t minmax_all_index(const Tensor& x, bool is_max);
// Variance along the merged axes [first, last] of a contiguous x: out has those axes set to 1; mean (same
// shape) receives the means. ddof is 0 or 1.
void var_axes(const Tensor& x, int64_t first, int64_t last, int64_t ddof, const Tensor& out,
              const Tensor& mean);

// out[i] = mask[i] ? a[i] : b[i] where mask (bool), a, b and out have out's number of elements and are
// contiguous, except that a or b may hold a single value used everywhere. Branch-free (the mask is widened to
// the value type a block at a time so that the select vectorises): a random mask costs no mispredictions.
void select_dense(const Tensor& mask, const Tensor& a, const Tensor& b, const Tensor& out);

// Readable references.
void index_select_ref(const Tensor& x, int64_t axis, const Tensor& index, const Tensor& out);
void index_add_ref(const Tensor& g, int64_t axis, const Tensor& index, const Tensor& dx);
void gather_ref(const Tensor& x, int64_t axis, const Tensor& index, const Tensor& out);
void scatter_add_ref(const Tensor& g, int64_t axis, const Tensor& index, const Tensor& dx);
void minmax_axis_ref(const Tensor& x, int64_t axis, bool is_max, const Tensor& values, const Tensor& indices);

}  // namespace ember::kernels
