#include "kernels.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <vector>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace mvclass::nn {

namespace {

const std::vector<int64_t> kTwo{2, 2, 2}, kZero{0, 0, 0}, kOne{1, 1, 1};

// One window, by libtorch's rule: scanned t, then h, then w; the first largest value wins, and a
// NaN wins over anything scanned before it (so the last NaN). Windows at an odd edge are cut.
inline void PoolWindow(const float* in, int64_t plane, int64_t T, int64_t H, int64_t W, int64_t t0, int64_t h0, int64_t w0, float* out, int64_t* index) {
  const int64_t t1 = std::min(t0 + 2, T), h1 = std::min(h0 + 2, H), w1 = std::min(w0 + 2, W);
  int64_t best = t0 * plane + h0 * W + w0;
  float max = -std::numeric_limits<float>::infinity();
  for (int64_t t = t0; t < t1; t++) {
    for (int64_t h = h0; h < h1; h++) {
      for (int64_t w = w0; w < w1; w++) {
        const int64_t i = t * plane + h * W + w;
        const float v = in[i];
        if (v > max || std::isnan(v)) {
          max = v;
          best = i;
        }
      }
    }
  }
  *out = max;
  *index = best;
}

// One (n, c) slice [T, H, W] into [OT, OH, OW] values and indices (within the slice, t*H*W + h*W + w).
void PoolSlice(const float* in, float* out, int64_t* index, int64_t T, int64_t H, int64_t W) {
  const int64_t OT = (T + 1) / 2, OH = (H + 1) / 2, OW = (W + 1) / 2, plane = H * W;
  for (int64_t ot = 0; ot < OT; ot++) {
    const int64_t t0 = 2 * ot;
    for (int64_t oh = 0; oh < OH; oh++, out += OW, index += OW) {
      const int64_t h0 = 2 * oh;
      int64_t ow = 0;
#if defined(__SSE2__)
      // Four whole windows at a time: the four rows a window spans, each split into its even and
      // odd columns, compared in the scalar scan's order; `code` keeps which of the 8 won.
      if (t0 + 1 < T && h0 + 1 < H) {
        const int64_t base = t0 * plane + h0 * W;
        const int64_t rowOffset[4] = {0, W, plane, plane + W};
        for (; ow + 4 <= W / 2; ow += 4) {
          __m128 max = _mm_setzero_ps(), code = _mm_setzero_ps();
          for (int r = 0; r < 4; r++) {
            const float* row = in + base + rowOffset[r] + 2 * ow;
            const __m128 a = _mm_loadu_ps(row), b = _mm_loadu_ps(row + 4);
            const __m128 columns[2] = {_mm_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)), _mm_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1))};
            for (int c = 0; c < 2; c++) {
              const __m128 v = columns[c];
              if (r == 0 && c == 0) {
                max = v;  // as the scan's first step from -inf: taken, unless -inf (then kept as is)
                continue;
              }
              const __m128 take = _mm_or_ps(_mm_cmpgt_ps(v, max), _mm_cmpunord_ps(v, v));
              max = _mm_or_ps(_mm_and_ps(take, v), _mm_andnot_ps(take, max));
              const __m128 k = _mm_castsi128_ps(_mm_set1_epi32(2 * r + c));
              code = _mm_or_ps(_mm_and_ps(take, k), _mm_andnot_ps(take, code));
            }
          }
          _mm_storeu_ps(out + ow, max);
          alignas(16) int32_t won[4];
          _mm_store_si128(reinterpret_cast<__m128i*>(won), _mm_castps_si128(code));
          for (int l = 0; l < 4; l++) index[ow + l] = base + rowOffset[won[l] >> 1] + 2 * (ow + l) + (won[l] & 1);
        }
      }
#endif
      for (; ow < OW; ow++) PoolWindow(in, plane, T, H, W, t0, h0, 2 * ow, out + ow, index + ow);
    }
  }
}

std::pair<torch::Tensor, torch::Tensor> PoolForward(const torch::Tensor& x) {
  const int64_t N = x.size(0), C = x.size(1), T = x.size(2), H = x.size(3), W = x.size(4);
  const int64_t OT = (T + 1) / 2, OH = (H + 1) / 2, OW = (W + 1) / 2;
  torch::Tensor out = torch::empty({N, C, OT, OH, OW}, x.options());
  torch::Tensor index = torch::empty({N, C, OT, OH, OW}, x.options().dtype(torch::kLong));
  const float* in = x.data_ptr<float>();
  float* o = out.data_ptr<float>();
  int64_t* i = index.data_ptr<int64_t>();
  const int64_t inSlice = T * H * W, outSlice = OT * OH * OW;
  at::parallel_for(0, N * C, 1, [&](int64_t begin, int64_t end) {
    for (int64_t s = begin; s < end; s++) PoolSlice(in + s * inSlice, o + s * outSlice, i + s * outSlice, T, H, W);
  });
  return {out, index};
}

// The gradient goes where libtorch's own max_pool3d sends it: its backward, given these indices.
struct PoolFunction : torch::autograd::Function<PoolFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x) {
    auto [out, index] = PoolForward(x);
    ctx->save_for_backward({x, index});
    return out;
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    return {at::max_pool3d_with_indices_backward(grads[0], saved[0], kTwo, kTwo, kZero, kOne, true, saved[1])};
  }
};

// PReLU's backward with one weight, as libtorch 1.13 computes it (prelu_backward, shared weight):
// per element, the input's gradient (g where x > 0, else w * g) and a collector (0 where x > 0,
// else x * g); the weight's gradient is libtorch's own sum of the collector, so its rounding is
// the same. libtorch's elementwise loop is scalar and goes through TensorIterator; this one is
// four elements at a time.
void PReLUGradients(const float* x, const float* g, float w, float* gradInput, float* collector, int64_t begin, int64_t end) {
  int64_t i = begin;
#if defined(__SSE2__)
  const __m128 zero = _mm_setzero_ps(), weight = _mm_set1_ps(w);
  for (; i + 4 <= end; i += 4) {
    const __m128 xv = _mm_loadu_ps(x + i), gv = _mm_loadu_ps(g + i);
    const __m128 positive = _mm_cmpgt_ps(xv, zero);
    _mm_storeu_ps(gradInput + i, _mm_or_ps(_mm_and_ps(positive, gv), _mm_andnot_ps(positive, _mm_mul_ps(weight, gv))));
    _mm_storeu_ps(collector + i, _mm_andnot_ps(positive, _mm_mul_ps(xv, gv)));
  }
#endif
  for (; i < end; i++) {
    const bool positive = x[i] > 0;
    gradInput[i] = positive ? g[i] : w * g[i];
    collector[i] = positive ? 0.0f : x[i] * g[i];
  }
}

struct PReLUFunction : torch::autograd::Function<PReLUFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& weight) {
    ctx->save_for_backward({x, weight});
    return torch::prelu(x, weight);
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor x = saved[0].contiguous(), weight = saved[1], g = grads[0].contiguous();
    torch::Tensor gradInput = torch::empty_like(x), collector = torch::empty_like(x);
    const float* xp = x.data_ptr<float>();
    const float* gp = g.data_ptr<float>();
    float* ip = gradInput.data_ptr<float>();
    float* cp = collector.data_ptr<float>();
    const float w = weight.item<float>();
    at::parallel_for(0, x.numel(), 1 << 15, [&](int64_t begin, int64_t end) { PReLUGradients(xp, gp, w, ip, cp, begin, end); });
    return {gradInput, collector.sum().view_as(weight)};
  }
};


// Depthwise 3D convolution: one [KT, KH, KW] filter per channel, no bias, dilation 1. libtorch
// 1.13 hands it to oneDNN, which has no direct kernel for a grouped 3D convolution and runs it as
// im2col and one tiny GEMM per group ("gemm:jit"): in x3d-s (width 1/8, 4 frames of 64x64, batch
// 8, one thread) 60% of a training step. Here each (n, c) volume is convolved row by row: the
// output row gains one input row times one weight per tap. Rounding differs from oneDNN's GEMM
// (another summation order), not the arithmetic: test/nn/layers.test.ts compares values and both
// gradients with libtorch's conv3d.
struct DepthwiseGeometry {
  int64_t N, C, T, H, W, KT, KH, KW, ST, SH, SW, PT, PH, PW, OT, OH, OW;
  DepthwiseGeometry(const torch::Tensor& x, const torch::Tensor& weight, const std::array<int64_t, 3>& stride, const std::array<int64_t, 3>& padding)
      : N(x.size(0)), C(x.size(1)), T(x.size(2)), H(x.size(3)), W(x.size(4)), KT(weight.size(2)), KH(weight.size(3)), KW(weight.size(4)),
        ST(stride[0]), SH(stride[1]), SW(stride[2]), PT(padding[0]), PH(padding[1]), PW(padding[2]),
        OT((T + 2 * PT - KT) / ST + 1), OH((H + 2 * PH - KH) / SH + 1), OW((W + 2 * PW - KW) / SW + 1) {}
  int64_t taps() const { return KT * KH * KW; }
  bool unitStride() const { return ST == 1 && SH == 1 && SW == 1; }
  // Stride 1: the plane zero-padded, [T + 2PT, H + 2PH, W + 2PW] flat. Output (ot, oh, ow) sits
  // at padded(ot, oh, ow), and its tap (kt, kh, kw) reads the input at that index plus
  // padded(kt, kh, kw): each tap is one multiply-add over one contiguous run of `span()` values
  // (those between valid outputs are computed too and dropped), whatever the rows' length.
  int64_t paddedPlane() const { return (T + 2 * PT) * (H + 2 * PH) * (W + 2 * PW); }
  int64_t padded(int64_t t, int64_t h, int64_t w) const { return (t * (H + 2 * PH) + h) * (W + 2 * PW) + w; }
  int64_t span() const { return padded(OT - 1, OH - 1, OW - 1) + 1; }
  // In: [T, H, W] plane -> zero-padded copy.
  void pad(const float* in, float* out) const {
    std::fill(out, out + paddedPlane(), 0.0f);
    for (int64_t t = 0; t < T; t++)
      for (int64_t h = 0; h < H; h++) std::copy(in + (t * H + h) * W, in + (t * H + h + 1) * W, out + padded(t + PT, h + PH, PW));
  }
  // The inverse: a zero-padded plane's inside -> [T, H, W].
  void unpad(const float* in, float* out) const {
    for (int64_t t = 0; t < T; t++)
      for (int64_t h = 0; h < H; h++) std::copy(in + padded(t + PT, h + PH, PW), in + padded(t + PT, h + PH, PW) + W, out + (t * H + h) * W);
  }
  // Output-shaped [OT, OH, OW] plane <-> its places in the padded index space (`span()` values;
  // the places between rows are zero after spread).
  void spread(const float* in, float* out) const {
    std::fill(out, out + span(), 0.0f);
    for (int64_t t = 0; t < OT; t++)
      for (int64_t h = 0; h < OH; h++) std::copy(in + (t * OH + h) * OW, in + (t * OH + h + 1) * OW, out + padded(t, h, 0));
  }
  void gather(const float* in, float* out) const {
    for (int64_t t = 0; t < OT; t++)
      for (int64_t h = 0; h < OH; h++) std::copy(in + padded(t, h, 0), in + padded(t, h, 0) + OW, out + (t * OH + h) * OW);
  }
  int64_t tapOffset(int64_t tap) const { return padded(tap / (KH * KW), tap / KW % KH, tap % KW); }
  int64_t inPlane() const { return T * H * W; }
  int64_t outPlane() const { return OT * OH * OW; }
  // The output columns [lo, hi) whose input column ow * SW - PW + kw lies in [0, W).
  void columns(int64_t kw, int64_t& lo, int64_t& hi) const {
    const int64_t first = PW - kw;  // ow * SW >= first
    lo = first <= 0 ? 0 : (first + SW - 1) / SW;
    const int64_t last = W - 1 + PW - kw;  // ow * SW <= last
    hi = last < 0 ? 0 : std::min(OW, last / SW + 1);
    if (hi < lo) hi = lo;
  }
};

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// The unit-stride loops with AVX2 and FMA where the CPU has them (chosen once, at run time; the
// build targets plain x86-64). Only the depthwise kernels use them: their rounding is not bound to
// libtorch's.
__attribute__((target("avx2,fma"))) void AxpyAvx2(float* out, const float* in, float w, int64_t n) {
  int64_t i = 0;
  const __m256 wv = _mm256_set1_ps(w);
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, _mm256_fmadd_ps(wv, _mm256_loadu_ps(in + i), _mm256_loadu_ps(out + i)));
  for (; i < n; i++) out[i] += w * in[i];
}

__attribute__((target("avx2,fma"))) float DotAvx2(const float* a, const float* b, int64_t n) {
  int64_t i = 0;
  __m256 acc = _mm256_setzero_ps();
  for (; i + 8 <= n; i += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, acc);
  float sum = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
  for (; i < n; i++) sum += a[i] * b[i];
  return sum;
}

// Asked once, when the addon loads (__builtin_cpu_init first: the answer must not depend on the
// order in which static initialisers run). A plain flag: the loops read it millions of times a step.
bool CpuHasAvx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
const bool kAvx2 = CpuHasAvx2();
#else
constexpr bool kAvx2 = false;
inline void AxpyAvx2(float*, const float*, float, int64_t) {}
inline float DotAvx2(const float*, const float*, int64_t) { return 0.0f; }
#endif

// out[i] += w * in[i * step] for i in [0, n).
inline void Axpy(float* out, const float* in, int64_t step, float w, int64_t n) {
  if (step == 1 && kAvx2) {
    AxpyAvx2(out, in, w, n);
    return;
  }
  int64_t i = 0;
#if defined(__SSE2__)
  if (step == 1) {
    const __m128 wv = _mm_set1_ps(w);
    for (; i + 4 <= n; i += 4) _mm_storeu_ps(out + i, _mm_add_ps(_mm_loadu_ps(out + i), _mm_mul_ps(wv, _mm_loadu_ps(in + i))));
  }
#endif
  for (; i < n; i++) out[i] += w * in[i * step];
}

// out[i * step] += w * in[i] for i in [0, n).
inline void ScatterAxpy(float* out, int64_t step, const float* in, float w, int64_t n) {
  if (step == 1) {
    Axpy(out, in, 1, w, n);
    return;
  }
  for (int64_t i = 0; i < n; i++) out[i * step] += w * in[i];
}

// sum of a[i] * b[i * step] for i in [0, n); with step 1, in vector lanes' partial sums.
inline float Dot(const float* a, const float* b, int64_t step, int64_t n) {
  if (step == 1 && kAvx2) return DotAvx2(a, b, n);
  int64_t i = 0;
  float sum = 0.0f;
#if defined(__SSE2__)
  if (step == 1 && n >= 4) {
    __m128 acc = _mm_setzero_ps();
    for (; i + 4 <= n; i += 4) acc = _mm_add_ps(acc, _mm_mul_ps(_mm_loadu_ps(a + i), _mm_loadu_ps(b + i)));
    alignas(16) float lanes[4];
    _mm_store_ps(lanes, acc);
    sum = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
  }
#endif
  for (; i < n; i++) sum += a[i] * b[i * step];
  return sum;
}

// The strided path: calls f(out, in, tap, n) for every output row and every tap whose input row
// exists, where the n output values from index `out` of the output volume meet the input values
// from index `in` of the input volume, every SW-th one, times weight `tap`.
template <typename F>
inline void ForEachTapRun(const DepthwiseGeometry& g, F&& f) {
  for (int64_t ot = 0; ot < g.OT; ot++) {
    for (int64_t oh = 0; oh < g.OH; oh++) {
      const int64_t outRow = (ot * g.OH + oh) * g.OW;
      for (int64_t kt = 0; kt < g.KT; kt++) {
        const int64_t it = ot * g.ST - g.PT + kt;
        if (it < 0 || it >= g.T) continue;
        for (int64_t kh = 0; kh < g.KH; kh++) {
          const int64_t ih = oh * g.SH - g.PH + kh;
          if (ih < 0 || ih >= g.H) continue;
          const int64_t inRow = (it * g.H + ih) * g.W, tap = (kt * g.KH + kh) * g.KW;
          for (int64_t kw = 0; kw < g.KW; kw++) {
            int64_t lo, hi;
            g.columns(kw, lo, hi);
            f(outRow + lo, inRow + lo * g.SW - g.PW + kw, tap + kw, hi - lo);
          }
        }
      }
    }
  }
}

// Runs f(first, last, padded, run) over the (n, c) volumes [first, last) on libtorch's threads,
// `indices` of them, with two scratch buffers per thread for the stride-1 path: a padded input
// volume and one run of span() values.
template <typename F>
void InParallel(const DepthwiseGeometry& g, int64_t indices, F&& f) {
  at::parallel_for(0, indices, 1, [&](int64_t first, int64_t last) {
    std::vector<float> padded, run;
    if (g.unitStride()) {
      padded.resize(static_cast<size_t>(g.paddedPlane()));
      run.resize(static_cast<size_t>(g.span()));
    }
    f(first, last, padded.data(), run.data());
  });
}

torch::Tensor DepthwiseForward(const torch::Tensor& x, const torch::Tensor& weight, const DepthwiseGeometry& g) {
  torch::Tensor out = torch::zeros({g.N, g.C, g.OT, g.OH, g.OW}, x.options());
  const float* in = x.data_ptr<float>();
  const float* w = weight.data_ptr<float>();
  float* o = out.data_ptr<float>();
  InParallel(g, g.N * g.C, [&](int64_t first, int64_t last, float* padded, float* run) {
    for (int64_t s = first; s < last; s++) {
      const float* volume = in + s * g.inPlane();
      const float* filter = w + (s % g.C) * g.taps();
      float* result = o + s * g.outPlane();
      if (g.unitStride()) {
        g.pad(volume, padded);
        std::fill(run, run + g.span(), 0.0f);
        for (int64_t tap = 0; tap < g.taps(); tap++) Axpy(run, padded + g.tapOffset(tap), 1, filter[tap], g.span());
        g.gather(run, result);
      } else {
        ForEachTapRun(g, [&](int64_t to, int64_t from, int64_t tap, int64_t n) { Axpy(result + to, volume + from, g.SW, filter[tap], n); });
      }
    }
  });
  return out;
}

torch::Tensor DepthwiseInputGradient(const torch::Tensor& gradOut, const torch::Tensor& weight, const DepthwiseGeometry& g, const torch::TensorOptions& options) {
  torch::Tensor gradIn = torch::zeros({g.N, g.C, g.T, g.H, g.W}, options);
  const float* go = gradOut.data_ptr<float>();
  const float* w = weight.data_ptr<float>();
  float* gi = gradIn.data_ptr<float>();
  InParallel(g, g.N * g.C, [&](int64_t first, int64_t last, float* padded, float* run) {
    for (int64_t s = first; s < last; s++) {
      const float* upstream = go + s * g.outPlane();
      const float* filter = w + (s % g.C) * g.taps();
      float* result = gi + s * g.inPlane();
      if (g.unitStride()) {
        // Each tap sends the spread output gradient back to the padded input, then the padding is cut off.
        g.spread(upstream, run);
        std::fill(padded, padded + g.paddedPlane(), 0.0f);
        for (int64_t tap = 0; tap < g.taps(); tap++) Axpy(padded + g.tapOffset(tap), run, 1, filter[tap], g.span());
        g.unpad(padded, result);
      } else {
        ForEachTapRun(g, [&](int64_t from, int64_t to, int64_t tap, int64_t n) { ScatterAxpy(result + to, g.SW, upstream + from, filter[tap], n); });
      }
    }
  });
  return gradIn;
}

torch::Tensor DepthwiseWeightGradient(const torch::Tensor& gradOut, const torch::Tensor& x, const torch::Tensor& weight, const DepthwiseGeometry& g) {
  torch::Tensor gradWeight = torch::empty_like(weight);
  const float* go = gradOut.data_ptr<float>();
  const float* in = x.data_ptr<float>();
  float* gw = gradWeight.data_ptr<float>();
  // Channels are independent: each thread sums its channels over the batch (in double).
  InParallel(g, g.C, [&](int64_t first, int64_t last, float* padded, float* run) {
    std::vector<double> sums(static_cast<size_t>(g.taps()));
    for (int64_t c = first; c < last; c++) {
      std::fill(sums.begin(), sums.end(), 0.0);
      for (int64_t n = 0; n < g.N; n++) {
        const int64_t s = n * g.C + c;
        const float* upstream = go + s * g.outPlane();
        const float* volume = in + s * g.inPlane();
        if (g.unitStride()) {
          // Zeros between the spread rows: the dropped places add nothing.
          g.spread(upstream, run);
          g.pad(volume, padded);
          for (int64_t tap = 0; tap < g.taps(); tap++) sums[tap] += Dot(run, padded + g.tapOffset(tap), 1, g.span());
        } else {
          ForEachTapRun(g, [&](int64_t from, int64_t to, int64_t tap, int64_t count) { sums[tap] += Dot(upstream + from, volume + to, g.SW, count); });
        }
      }
      for (int64_t k = 0; k < g.taps(); k++) gw[c * g.taps() + k] = static_cast<float>(sums[k]);
    }
  });
  return gradWeight;
}

struct DepthwiseFunction : torch::autograd::Function<DepthwiseFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& weight, std::array<int64_t, 3> stride, std::array<int64_t, 3> padding) {
    const torch::Tensor w = weight.contiguous();
    ctx->save_for_backward({x, w});
    ctx->saved_data["stride"] = std::vector<int64_t>(stride.begin(), stride.end());
    ctx->saved_data["padding"] = std::vector<int64_t>(padding.begin(), padding.end());
    return DepthwiseForward(x, w, DepthwiseGeometry(x, w, stride, padding));
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& x = saved[0];
    const torch::Tensor& w = saved[1];
    const auto stride = ctx->saved_data["stride"].toIntVector(), padding = ctx->saved_data["padding"].toIntVector();
    const DepthwiseGeometry g(x, w, {stride[0], stride[1], stride[2]}, {padding[0], padding[1], padding[2]});
    const torch::Tensor gradOut = grads[0].contiguous();
    torch::Tensor gradIn, gradWeight;
    if (ctx->needs_input_grad(0)) gradIn = DepthwiseInputGradient(gradOut, w, g, x.options());
    if (ctx->needs_input_grad(1)) gradWeight = DepthwiseWeightGradient(gradOut, x, w, g).view_as(saved[1]);
    return {gradIn, gradWeight, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor SharedPReLU(const torch::Tensor& x, const torch::Tensor& weight) {
  if (x.device().is_cpu() && x.scalar_type() == torch::kFloat32 && weight.scalar_type() == torch::kFloat32 && weight.numel() == 1 && x.numel() > 0) {
    return PReLUFunction::apply(x, weight);
  }
  return torch::prelu(x, weight);
}

torch::Tensor DepthwiseConv3d(const torch::Tensor& x, const torch::Tensor& weight, std::array<int64_t, 3> stride, std::array<int64_t, 3> padding) {
  const bool own = x.dim() == 5 && weight.dim() == 5 && x.device().is_cpu() && x.scalar_type() == torch::kFloat32 && weight.scalar_type() == torch::kFloat32 &&
                   x.is_contiguous() && x.numel() > 0 && weight.size(0) == x.size(1) && weight.size(1) == 1;
  if (own) {
    bool fits = true;
    for (int i = 0; i < 3; i++) fits = fits && stride[i] >= 1 && padding[i] >= 0 && x.size(2 + i) + 2 * padding[i] >= weight.size(2 + i);
    if (fits) return DepthwiseFunction::apply(x, weight, stride, padding);
  }
  // Anything else (a GPU's tensor, bf16, a shape the kernel does not take) gets libtorch's, which
  // also words the errors for a bad shape.
  return torch::conv3d(x, weight, {}, stride, padding, 1, x.dim() >= 2 ? x.size(1) : 1);
}

torch::Tensor MaxPool2x2x2(const torch::Tensor& x) {
  if (x.dim() == 5 && x.device().is_cpu() && x.scalar_type() == torch::kFloat32 && x.is_contiguous() && x.numel() > 0) return PoolFunction::apply(x);
  return torch::max_pool3d(x, kTwo, kTwo, kZero, kOne, true);
}

}  // namespace mvclass::nn
