// Convolution through oneDNN primitives (the library PyTorch itself uses on CPU). Primitive descriptors and
// primitives are built once per geometry and cached per thread; the primitive picks its preferred memory
// formats (format_tag::any) and Ember reorders from/to its plain NCHW/OIHW buffers with cached reorders into
// buffers allocated once (first touch of fresh memory is expensive on these machines). Scratchpads are
// user-managed and reused for the same reason.
#include "ember/kernels/conv.h"

#include <cstdlib>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "conv_gemm.h"
#include "conv_winograd.h"
#include "ember/core/error.h"
#include "ember/kernels/gemm.h"
#include "ember/kernels/parallel.h"

namespace ember::kernels {

namespace {

// Below this many input channels per group the forward runs on plain NCHW and the weight gradient on Ember's
// im2col + sgemm (see use_plain); EMBER_CONV_PLAIN_MAX changes it.
int64_t plain_max_channels() {
  static const int64_t v =
      std::getenv("EMBER_CONV_PLAIN_MAX") ? std::atoll(std::getenv("EMBER_CONV_PLAIN_MAX")) : 64;
  return v;
}

using dnnl::memory;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

dnnl::engine& cpu_engine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

dnnl::stream& cpu_stream() {
  thread_local dnnl::stream s(cpu_engine());
  return s;
}

// Layout choice. Below plain_max_channels() input channels per group (64: small image models) the forward
// runs on Ember's NCHW buffers (oneDNN's gemm kernel, no reorders) and the weight gradient on Ember's im2col
// + sgemm (conv2d_backward_weights_small_c). Measured with 2 threads on the shared machine, forward+backward:
// the 1->32 3x3 MNIST layer took half the CPU of oneDNN's blocked kernels (which pad 1 channel to 8 and
// reorder the output gradient), and a 32->64 3x3 layer on 13x13 took ~35% less time. oneDNN's own gemm-based
// weight gradient is not used: it took seconds per call with 2 threads on the loaded 2-core machine. Backward
// data always lets oneDNN choose (its jit kernels on blocked layouts). EMBER_CONV_LAYOUT=plain|blocked forces
// oneDNN everywhere with that forward layout.
bool use_plain(const Conv2dGeom& g) {
  static const int forced = [] {
    const char* e = std::getenv("EMBER_CONV_LAYOUT");
    if (!e) return -1;
    return std::string(e) == "plain" ? 1 : 0;
  }();
  if (forced >= 0) return forced == 1;
  return g.c / g.groups < plain_max_channels();
}

struct Descs {
  memory::desc src, wei, bias, dst;  // plain user layouts
  memory::dims strides, dilates, pad_l, pad_r;
  bool plain = false;  // the primitive works on the user layouts directly
  // The descriptor the primitive is created with: the user's, or "any" to let oneDNN choose.
  memory::desc any_like(const memory::desc& d) const {
    return plain ? d : memory::desc(d.dims(), dt::f32, tag::any);
  }
};

Descs plain_descs(const Conv2dGeom& g) {
  Descs d;
  d.src = memory::desc({g.n, g.c, g.h, g.w}, dt::f32, tag::nchw);
  if (g.groups == 1)
    d.wei = memory::desc({g.o, g.c, g.kh, g.kw}, dt::f32, tag::oihw);
  else
    d.wei = memory::desc({g.groups, g.o / g.groups, g.c / g.groups, g.kh, g.kw}, dt::f32, tag::goihw);
  d.bias = memory::desc({g.o}, dt::f32, tag::x);
  d.dst = memory::desc({g.n, g.o, g.oh, g.ow}, dt::f32, tag::nchw);
  d.strides = {g.sh, g.sw};
  d.dilates = {g.dh - 1, g.dw - 1};
  d.pad_l = {g.pt, g.pl};
  d.pad_r = {g.pb, g.pr};
  d.plain = use_plain(g);
  return d;
}

// A tensor argument seen by a primitive: the user's plain buffer, and when the primitive wants another
// layout, a cached reorder to/from an internal buffer of that layout.
struct Arg {
  memory user;
  memory internal;
  dnnl::reorder to_internal, to_user;
  bool reordered = false;

  void init(const memory::desc& user_md, const memory::desc& want, bool is_input) {
    user = memory(user_md, cpu_engine(), DNNL_MEMORY_NONE);
    reordered = want != user_md;
    if (reordered) {
      internal = memory(want, cpu_engine());
      if (is_input)
        to_internal = dnnl::reorder(user, internal);
      else
        to_user = dnnl::reorder(internal, user);
    }
  }
  // The memory the primitive should use, after copying the user's input in when needed.
  memory& bind_input(const void* p) {
    user.set_data_handle(const_cast<void*>(p));
    if (!reordered) return user;
    to_internal.execute(cpu_stream(), user, internal);
    return internal;
  }
  memory& bind_output(void* p) {
    user.set_data_handle(p);
    return reordered ? internal : user;
  }
  void finish_output() {
    if (reordered) to_user.execute(cpu_stream(), internal, user);
  }
};

dnnl::primitive_attr scratch_attr() {
  dnnl::primitive_attr a;
  a.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return a;
}

std::string key_of(const Conv2dGeom& g, const char* kind, bool flag) {
  return detail::concat(kind, flag, ':', g.n, ',', g.c, ',', g.h, ',', g.w, ',', g.o, ',', g.kh, ',', g.kw,
                        ',', g.sh, ',', g.sw, ',', g.pt, ',', g.pb, ',', g.pl, ',', g.pr, ',', g.dh, ',',
                        g.dw, ',', g.groups);
}

dnnl::convolution_forward::primitive_desc forward_pd(const Conv2dGeom& g, bool with_bias, bool relu) {
  Descs d = plain_descs(g);
  auto desc =
      with_bias
          ? dnnl::convolution_forward::desc(
                dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, d.any_like(d.src),
                d.any_like(d.wei), d.bias, d.any_like(d.dst), d.strides, d.dilates, d.pad_l, d.pad_r)
          : dnnl::convolution_forward::desc(
                dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, d.any_like(d.src),
                d.any_like(d.wei), d.any_like(d.dst), d.strides, d.dilates, d.pad_l, d.pad_r);
  dnnl::primitive_attr attr = scratch_attr();
  if (relu) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(ops);
  }
  return dnnl::convolution_forward::primitive_desc(desc, attr, cpu_engine());
}

struct ForwardEntry {
  dnnl::convolution_forward prim;
  Arg src, wei, dst;
  memory bias, scratch;
};

struct BackwardDataEntry {
  dnnl::convolution_backward_data prim;
  Arg diff_dst, wei, diff_src;
  memory scratch;
};

struct BackwardWeightsEntry {
  dnnl::convolution_backward_weights prim;
  Arg src, diff_dst, diff_wei;
  memory diff_bias, scratch;
};

template <typename E>
std::unordered_map<std::string, std::unique_ptr<E>>& cache() {
  thread_local std::unordered_map<std::string, std::unique_ptr<E>> c;
  return c;
}

ForwardEntry& forward_entry(const Conv2dGeom& g, bool with_bias, bool relu) {
  auto& c = cache<ForwardEntry>();
  std::string key = key_of(g, with_bias ? "fwd_b" : "fwd", relu);
  auto it = c.find(key);
  if (it != c.end()) return *it->second;
  auto pd = forward_pd(g, with_bias, relu);
  Descs d = plain_descs(g);
  auto e = std::make_unique<ForwardEntry>();
  e->prim = dnnl::convolution_forward(pd);
  e->src.init(d.src, pd.src_desc(), true);
  e->wei.init(d.wei, pd.weights_desc(), true);
  e->dst.init(d.dst, pd.dst_desc(), false);
  if (with_bias) e->bias = memory(d.bias, cpu_engine(), DNNL_MEMORY_NONE);
  e->scratch = memory(pd.scratchpad_desc(), cpu_engine());
  return *c.emplace(key, std::move(e)).first->second;
}

}  // namespace

static void conv2d_forward_impl(const Conv2dGeom& g, const float* x, const float* w, const float* b, float* y,
                                bool relu) {
  ForwardEntry& e = forward_entry(g, b != nullptr, relu);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, e.src.bind_input(x)},
                                       {DNNL_ARG_WEIGHTS, e.wei.bind_input(w)},
                                       {DNNL_ARG_DST, e.dst.bind_output(y)},
                                       {DNNL_ARG_SCRATCHPAD, e.scratch}};
  if (b) {
    e.bias.set_data_handle(const_cast<float*>(b));
    args.emplace(DNNL_ARG_BIAS, e.bias);
  }
  e.prim.execute(cpu_stream(), args);
  e.dst.finish_output();
  cpu_stream().wait();
}

static void conv2d_backward_data_impl(const Conv2dGeom& g, const float* dy, const float* w, float* dx) {
  auto& c = cache<BackwardDataEntry>();
  std::string key = key_of(g, "bwd_data", false);
  auto it = c.find(key);
  if (it == c.end()) {
    Descs d = plain_descs(g);
    d.plain = false;  // see use_plain()
    auto hint = forward_pd(g, false, false);
    dnnl::convolution_backward_data::desc desc(dnnl::algorithm::convolution_direct, d.any_like(d.src),
                                               d.any_like(d.wei), d.any_like(d.dst), d.strides, d.dilates,
                                               d.pad_l, d.pad_r);
    dnnl::convolution_backward_data::primitive_desc pd(desc, scratch_attr(), cpu_engine(), hint);
    auto e = std::make_unique<BackwardDataEntry>();
    e->prim = dnnl::convolution_backward_data(pd);
    e->diff_dst.init(d.dst, pd.diff_dst_desc(), true);
    e->wei.init(d.wei, pd.weights_desc(), true);
    e->diff_src.init(d.src, pd.diff_src_desc(), false);
    e->scratch = memory(pd.scratchpad_desc(), cpu_engine());
    it = c.emplace(key, std::move(e)).first;
  }
  BackwardDataEntry& e = *it->second;
  e.prim.execute(cpu_stream(), {{DNNL_ARG_DIFF_DST, e.diff_dst.bind_input(dy)},
                                {DNNL_ARG_WEIGHTS, e.wei.bind_input(w)},
                                {DNNL_ARG_DIFF_SRC, e.diff_src.bind_output(dx)},
                                {DNNL_ARG_SCRATCHPAD, e.scratch}});
  e.diff_src.finish_output();
  cpu_stream().wait();
}

static void conv2d_backward_weights_impl(const Conv2dGeom& g, const float* x, const float* dy, float* dw,
                                         float* db) {
  auto& c = cache<BackwardWeightsEntry>();
  std::string key = key_of(g, "bwd_w", db != nullptr);
  auto it = c.find(key);
  if (it == c.end()) {
    Descs d = plain_descs(g);
    d.plain = false;  // see use_plain()
    auto hint = forward_pd(g, db != nullptr, false);
    auto desc = db ? dnnl::convolution_backward_weights::desc(
                         dnnl::algorithm::convolution_direct, d.any_like(d.src), d.any_like(d.wei), d.bias,
                         d.any_like(d.dst), d.strides, d.dilates, d.pad_l, d.pad_r)
                   : dnnl::convolution_backward_weights::desc(
                         dnnl::algorithm::convolution_direct, d.any_like(d.src), d.any_like(d.wei),
                         d.any_like(d.dst), d.strides, d.dilates, d.pad_l, d.pad_r);
    dnnl::convolution_backward_weights::primitive_desc pd(desc, scratch_attr(), cpu_engine(), hint);
    auto e = std::make_unique<BackwardWeightsEntry>();
    e->prim = dnnl::convolution_backward_weights(pd);
    e->src.init(d.src, pd.src_desc(), true);
    e->diff_dst.init(d.dst, pd.diff_dst_desc(), true);
    e->diff_wei.init(d.wei, pd.diff_weights_desc(), false);
    if (db) e->diff_bias = memory(d.bias, cpu_engine(), DNNL_MEMORY_NONE);
    e->scratch = memory(pd.scratchpad_desc(), cpu_engine());
    it = c.emplace(key, std::move(e)).first;
  }
  BackwardWeightsEntry& e = *it->second;
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, e.src.bind_input(x)},
                                       {DNNL_ARG_DIFF_DST, e.diff_dst.bind_input(dy)},
                                       {DNNL_ARG_DIFF_WEIGHTS, e.diff_wei.bind_output(dw)},
                                       {DNNL_ARG_SCRATCHPAD, e.scratch}};
  if (db) {
    e.diff_bias.set_data_handle(db);
    args.emplace(DNNL_ARG_DIFF_BIAS, e.diff_bias);
  }
  e.prim.execute(cpu_stream(), args);
  e.diff_wei.finish_output();
  cpu_stream().wait();
}

// oneDNN reports failures as dnnl::error; Ember's callers expect ember::Error with the geometry.
template <typename F>
void guarded(const char* what, const Conv2dGeom& g, F&& f) {
  try {
    f();
  } catch (const dnnl::error& e) {
    throw Error(detail::concat(what, ": oneDNN failed (", e.what(), ") for ", key_of(g, "", false)));
  }
}

// Ember's im2col + AVX2 GEMM (conv_gemm.cpp) for groups 1 and more than 4 input channels, where it measured
// faster than oneDNN on the middle layers of small image models (Keras CNN 32->64 on 13x13 and 64->64 on
// 5x5; also 16->32 on 20x20, 64->128 on 16x16, 128->128 on 14x14, 256->256 on 8x8, 64->64 on 32x32 for the
// forward and weight gradient). EMBER_CONV_GEMM=0 turns it off; EMBER_CONV_LAYOUT (forcing oneDNN's
// layouts) also does.
static bool use_gemm_kernel(const Conv2dGeom& g) {
  static const bool enabled = [] {
    const char* e = std::getenv("EMBER_CONV_GEMM");
    return !(e && std::string(e) == "0") && !std::getenv("EMBER_CONV_LAYOUT");
  }();
  return enabled && g.c / g.groups > 4 && conv_gemm::supported(g);
}

bool conv2d_set_winograd(bool on) {
  return conv_winograd::set_enabled(on);
}

// The same answer for every pass today (each tiles the layer's output plane); the pass stays in the interface
// because the passes' best kernels have differed before.
bool conv2d_takes_winograd(const Conv2dGeom& g, ConvPass /*pass*/) {
  return conv_winograd::supported(g) && conv_winograd::fits(g.oh, g.ow);
}

// The geometries of the pooled Winograd path, whatever the run-time switch says.
static bool pool2_winograd_handles(const Conv2dGeom& g) {
  return g.oh >= 2 && g.ow >= 2 && conv_winograd::handles(g) && conv_winograd::fits(g.oh, g.ow);
}

bool conv2d_pool2_winograd_supported(const Conv2dGeom& g) {
  return conv_winograd::supported(g) && pool2_winograd_handles(g);
}

bool conv2d_pool2_forward_winograd(const Conv2dGeom& g, const float* x, const float* w, const float* b,
                                   bool relu, float* y, uint8_t* arg) {
  if (!conv2d_pool2_winograd_supported(g)) return false;
  conv_winograd::forward_pool2(g, x, w, b, relu, y, arg);
  return true;
}

bool conv2d_pool2_backward_winograd(const Conv2dGeom& g, const float* x, const float* w, const float* dy,
                                    const float* relu_out, const uint8_t* arg, float* dx, float* dw,
                                    float* db) {
  // Not the run-time switch: it may have been turned off since the forward.
  if (!pool2_winograd_handles(g)) return false;
  const conv_winograd::Pool2Grad pool{relu_out, arg};
  // One pass for both gradients (each dy tile unpooled and transformed once): 4.2 against 4.7 ms for the two
  // passes (Keras CNN's 32->64 layer, batch 64, 1 thread, best of 400).
  conv_winograd::backward(g, x, dy, w, dx, dw, db, &pool);
  return true;
}

void conv2d_forward(const Conv2dGeom& g, const float* x, const float* w, const float* b, float* y,
                    bool relu) {
  if (conv2d_forward_direct(g, x, w, b, y, relu)) return;
  if (conv2d_takes_winograd(g, ConvPass::Forward)) {
    conv_winograd::forward(g, x, w, b, y, relu);
    return;
  }
  // Output rows narrower than 8 make the im2col slivers mostly copy overhead (64->64 on 5x5: oneDNN 0.9 ms,
  // GEMM 1.3 ms); the weight gradient has no such cost and takes the GEMM at any width.
  if (use_gemm_kernel(g) && g.ow >= 8) {
    conv_gemm::forward(g, x, w, b, y, relu);
    return;
  }
  guarded("conv2d forward", g, [&] { conv2d_forward_impl(g, x, w, b, y, relu); });
}

void conv2d_backward_data(const Conv2dGeom& g, const float* dy, const float* w, float* dx) {
  if (conv2d_takes_winograd(g, ConvPass::BackwardData)) {
    conv_winograd::backward_data(g, dy, w, dx);
    return;
  }
  // The GEMM's depth here is o and its output (the c*kh*kw x pixels column matrix) must stay in L2: with
  // fewer than 48 output channels, planes above 256 pixels or rows under 8 oneDNN measured faster (16->32
  // channels on 20x20, 64->64 on 32x32, 64->64 on 5x5).
  if (use_gemm_kernel(g) && g.ow >= 8 && g.o >= 48 && g.oh * g.ow <= 256) {
    conv_gemm::backward_data(g, dy, w, dx);
    return;
  }
  guarded("conv2d backward (data)", g, [&] { conv2d_backward_data_impl(g, dy, w, dx); });
}

// Weight gradient for few input channels per group (the first layer of an image model) as im2col + GEMM:
// oneDNN's blocked kernel pads the channels to 8 and needs the output gradient reordered, which costs more
// than the arithmetic. Per image, dW[o] += dY[o] (o x OH*OW) * col^T (OH*OW x cg*kh*kw). Output channels are
// split across threads, so each weight is summed by one thread in image order (deterministic for a thread
// count); every thread builds its own im2col (cheap when cg is small).
void conv2d_backward_weights_small_c(const Conv2dGeom& g, const float* x, const float* dy, float* dw,
                                     float* db) {
  const int64_t cg = g.c / g.groups, og = g.o / g.groups, kk = cg * g.kh * g.kw, ohw = g.oh * g.ow;
  // One chunk of output channels per thread, never straddling a group.
  const int64_t chunks = g.groups == 1 ? std::min<int64_t>(num_threads(), g.o) : g.groups;
  if (g.n == 0) {
    std::fill(dw, dw + g.o * kk, 0.f);
    if (db) std::fill(db, db + g.o, 0.f);
    return;
  }
  parallel_for(0, chunks, 0, [&](int64_t clo, int64_t chi) {
    thread_local std::vector<float> col;
    col.resize(size_t(kk * ohw));
    for (int64_t ch = clo; ch < chi; ++ch) {
      const int64_t o0 = g.groups == 1 ? ch * g.o / chunks : ch * og;
      const int64_t o1 = g.groups == 1 ? (ch + 1) * g.o / chunks : (ch + 1) * og;
      const int64_t grp = o0 / og;
      if (o1 <= o0) continue;
      for (int64_t n = 0; n < g.n; ++n) {
        for (int64_t c = 0; c < cg; ++c) {
          const float* xc = x + (n * g.c + grp * cg + c) * g.h * g.w;
          for (int64_t p = 0; p < g.kh; ++p)
            for (int64_t q = 0; q < g.kw; ++q) {
              float* cr = col.data() + ((c * g.kh + p) * g.kw + q) * ohw;
              for (int64_t i = 0; i < g.oh; ++i) {
                const int64_t hi = i * g.sh - g.pt + p * g.dh;
                float* dst = cr + i * g.ow;
                if (hi < 0 || hi >= g.h) {
                  std::fill(dst, dst + g.ow, 0.f);
                  continue;
                }
                const float* xr = xc + hi * g.w;
                for (int64_t j = 0; j < g.ow; ++j) {
                  const int64_t wi = j * g.sw - g.pl + q * g.dw;
                  dst[j] = wi >= 0 && wi < g.w ? xr[wi] : 0.f;
                }
              }
            }
        }
        const float* dyn = dy + (n * g.o + o0) * ohw;
        gemm(false, true, o1 - o0, kk, ohw, 1.f, dyn, ohw, col.data(), ohw, n == 0 ? 0.f : 1.f, dw + o0 * kk,
             kk);
      }
      if (db)
        for (int64_t o = o0; o < o1; ++o) {
          double bsum = 0;
          for (int64_t n = 0; n < g.n; ++n) {
            const float* d = dy + (n * g.o + o) * ohw;
            float s = 0;
#pragma omp simd reduction(+ : s)
            for (int64_t k = 0; k < ohw; ++k) s += d[k];
            bsum += s;
          }
          db[o] = float(bsum);
        }
    }
  });
}

void conv2d_backward_weights(const Conv2dGeom& g, const float* x, const float* dy, float* dw, float* db) {
  if (conv2d_backward_weights_direct(g, x, dy, nullptr, dw, db)) return;
  if (conv2d_takes_winograd(g, ConvPass::BackwardWeights)) {
    conv_winograd::backward_weights(g, x, dy, dw, db);
    return;
  }
  if (use_gemm_kernel(g)) {
    conv_gemm::backward_weights(g, x, dy, dw, db);
    return;
  }
  if (g.c / g.groups < plain_max_channels() && !std::getenv("EMBER_CONV_LAYOUT")) {
    conv2d_backward_weights_small_c(g, x, dy, dw, db);
    return;
  }
  guarded("conv2d backward (weights)", g, [&] { conv2d_backward_weights_impl(g, x, dy, dw, db); });
}

}  // namespace ember::kernels
