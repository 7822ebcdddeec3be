#include "kernels.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>
#if defined(__SSE2__)
#include <emmintrin.h>
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

}  // namespace

torch::Tensor SharedPReLU(const torch::Tensor& x, const torch::Tensor& weight) {
  if (x.device().is_cpu() && x.scalar_type() == torch::kFloat32 && weight.scalar_type() == torch::kFloat32 && weight.numel() == 1 && x.numel() > 0) {
    return PReLUFunction::apply(x, weight);
  }
  return torch::prelu(x, weight);
}

torch::Tensor MaxPool2x2x2(const torch::Tensor& x) {
  if (x.dim() == 5 && x.device().is_cpu() && x.scalar_type() == torch::kFloat32 && x.is_contiguous() && x.numel() > 0) return PoolFunction::apply(x);
  return torch::max_pool3d(x, kTwo, kTwo, kZero, kOne, true);
}

}  // namespace mvclass::nn
