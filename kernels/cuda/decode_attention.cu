// Decode attention for GQA over the slot-based KV cache (see hb_cuda.h).
//
// Floor (METHOD.md): every K and V byte of the attended context is read once:
//   bytes = B * Hkv * len * HD * 2 (K) * 2 (V) * 2 B; FLOPs = 4 * B * Hq * len * HD (tiny next to bytes).
// Design: grid (split, kv head, batch). A CTA of 128 threads streams its split of K with 16-byte loads
// (HD/8 lanes per key, 128/(HD/8) keys per pass, 4 passes in flight), computes the G query heads' scores
// against each key from registers (the whole group served by one read), keeps the scores in shared memory,
// takes the split's max/sum, then streams V once accumulating G outputs per lane. The log2-domain partial
// (o, m, l) goes to scratch; the combine kernel merges splits. Lengths only: no mask is materialised.
#include <cuda_bf16.h>

#include <algorithm>
#include <cfloat>

#include "kernels/cuda/hb_cuda.h"

namespace hb::cuda {
namespace {

constexpr int kThreads = 128;
constexpr int kUnroll = 4;

__device__ __forceinline__ void bf16x8_to_float(const uint4& u, float* f) {
  const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&u);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    float2 v = __bfloat1622float2(h[i]);
    f[2 * i] = v.x;
    f[2 * i + 1] = v.y;
  }
}

__device__ __forceinline__ uint4 ld_stream(const void* p) {
  uint4 r;
  asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];"
               : "=r"(r.x), "=r"(r.y), "=r"(r.z), "=r"(r.w)
               : "l"(p));
  return r;
}

template <int HD, int G>
__global__ void __launch_bounds__(kThreads) decode_attn_kernel(DecodeAttnParams p) {
  constexpr int VEC = 8;
  constexpr int LPT = HD / VEC;           // lanes per key
  constexpr int TPP = kThreads / LPT;     // keys per pass
  constexpr int STEP = TPP * kUnroll;     // keys per outer iteration
  constexpr int WARPS = kThreads / 32;
  const int split = blockIdx.x, kvh = blockIdx.y, b = blockIdx.z;
  const int slot = p.slots[b];
  const int len = p.lens[b];
  const int t0 = split * p.split_len;
  if (slot < 0 || t0 >= len) return;  // the combine kernel only reads splits below len
  const int t1 = min(len, t0 + p.split_len);
  const int n = t1 - t0;

  extern __shared__ float smem[];
  float* sc = smem;                              // [G][split_len] scores, then probabilities
  float* red = smem + G * p.split_len;           // [WARPS][G][HD]
  __shared__ float s_m[G], s_l[G];

  const int tid = threadIdx.x, lane = tid % LPT, tok = tid / LPT;
  const int warp = tid / 32, wl = tid % 32;
  const __nv_bfloat16* q = static_cast<const __nv_bfloat16*>(p.q) + ((int64_t)b * p.Hq + kvh * G) * HD;
  const float qscale = p.scale * 1.4426950408889634f;  // scores in log2 units
  float qr[G][VEC];
#pragma unroll
  for (int g = 0; g < G; ++g) {
    uint4 u = *reinterpret_cast<const uint4*>(q + g * HD + lane * VEC);
    bf16x8_to_float(u, qr[g]);
#pragma unroll
    for (int i = 0; i < VEC; ++i) qr[g][i] *= qscale;
  }
  const int64_t head_off = ((int64_t)slot * p.Hkv + kvh) * p.max_ctx * HD;
  const __nv_bfloat16* kb = static_cast<const __nv_bfloat16*>(p.k_cache) + head_off;
  const __nv_bfloat16* vb = static_cast<const __nv_bfloat16*>(p.v_cache) + head_off;

  // Phase 1: scores.
  for (int base = t0; base < t1; base += STEP) {
    uint4 kv[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int t = base + u * TPP + tok;
      if (t < t1) kv[u] = ld_stream(kb + (int64_t)t * HD + lane * VEC);
      else kv[u] = make_uint4(0, 0, 0, 0);
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      float kf[VEC];
      bf16x8_to_float(kv[u], kf);
      float d[G];
#pragma unroll
      for (int g = 0; g < G; ++g) {
        float a = 0.f;
#pragma unroll
        for (int i = 0; i < VEC; ++i) a = fmaf(qr[g][i], kf[i], a);
        d[g] = a;
      }
#pragma unroll
      for (int off = LPT / 2; off > 0; off >>= 1) {
#pragma unroll
        for (int g = 0; g < G; ++g) d[g] += __shfl_xor_sync(0xffffffffu, d[g], off);
      }
      const int t = base + u * TPP + tok;
      if (lane == 0 && t < t1) {
#pragma unroll
        for (int g = 0; g < G; ++g) sc[g * p.split_len + (t - t0)] = d[g];
      }
    }
  }
  __syncthreads();
  // Phase 2: per head max, exp2, sum (one warp per head, round robin).
  for (int g = warp; g < G; g += WARPS) {
    float* s = sc + g * p.split_len;
    float m = -FLT_MAX;
    for (int i = wl; i < n; i += 32) m = fmaxf(m, s[i]);
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, off));
    float l = 0.f;
    for (int i = wl; i < n; i += 32) {
      const float e = exp2f(s[i] - m);
      s[i] = e;
      l += e;
    }
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) l += __shfl_xor_sync(0xffffffffu, l, off);
    if (wl == 0) {
      s_m[g] = m;
      s_l[g] = l;
    }
  }
  __syncthreads();
  // Phase 3: V.
  float acc[G][VEC];
#pragma unroll
  for (int g = 0; g < G; ++g)
#pragma unroll
    for (int i = 0; i < VEC; ++i) acc[g][i] = 0.f;
  for (int base = t0; base < t1; base += STEP) {
    uint4 vv[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int t = base + u * TPP + tok;
      if (t < t1) vv[u] = ld_stream(vb + (int64_t)t * HD + lane * VEC);
      else vv[u] = make_uint4(0, 0, 0, 0);
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int t = base + u * TPP + tok;
      if (t < t1) {
        float vf[VEC];
        bf16x8_to_float(vv[u], vf);
#pragma unroll
        for (int g = 0; g < G; ++g) {
          const float pg = sc[g * p.split_len + (t - t0)];
#pragma unroll
          for (int i = 0; i < VEC; ++i) acc[g][i] = fmaf(pg, vf[i], acc[g][i]);
        }
      }
    }
  }
  // Reduce over the keys handled by the lanes of one warp that share `lane`, then across warps.
#pragma unroll
  for (int off = LPT; off < 32; off <<= 1) {
#pragma unroll
    for (int g = 0; g < G; ++g)
#pragma unroll
      for (int i = 0; i < VEC; ++i) acc[g][i] += __shfl_xor_sync(0xffffffffu, acc[g][i], off);
  }
  if (wl < LPT) {
#pragma unroll
    for (int g = 0; g < G; ++g)
#pragma unroll
      for (int i = 0; i < VEC; ++i) red[(warp * G + g) * HD + lane * VEC + i] = acc[g][i];
  }
  __syncthreads();
  for (int idx = tid; idx < G * HD; idx += kThreads) {
    float s = 0.f;
#pragma unroll
    for (int w = 0; w < WARPS; ++w) s += red[w * G * HD + idx];
    const int g = idx / HD, d = idx % HD;
    const int64_t row = ((int64_t)b * p.Hq + kvh * G + g) * p.num_splits + split;
    p.part_o[row * HD + d] = s;
    if (d == 0) {
      p.part_ml[row * 2] = s_m[g];
      p.part_ml[row * 2 + 1] = s_l[g];
    }
  }
}

// Single-pass variant: K and V of the same keys are loaded together (twice the bytes in flight per round
// trip, no score buffer, no separate softmax phase); each thread keeps an online softmax (m, l, acc) per
// query head over the keys it touched, merged across lanes by shuffles and across warps in shared memory.
template <int HD, int G, int U>
__global__ void __launch_bounds__(kThreads) decode_attn_1pass_kernel(DecodeAttnParams p) {
  constexpr int VEC = 8;
  constexpr int LPT = HD / VEC;
  constexpr int TPP = kThreads / LPT;
  constexpr int STEP = TPP * U;
  constexpr int WARPS = kThreads / 32;
  const int split = blockIdx.x, kvh = blockIdx.y, b = blockIdx.z;
  const int slot = p.slots[b];
  const int len = p.lens[b];
  const int t0 = split * p.split_len;
  if (slot < 0 || t0 >= len) return;
  const int t1 = min(len, t0 + p.split_len);
  __shared__ float red_o[WARPS][G][HD];
  __shared__ float red_ml[WARPS][G][2];
  const int tid = threadIdx.x, lane = tid % LPT, tok = tid / LPT;
  const int warp = tid / 32, wl = tid % 32;
  const __nv_bfloat16* q = static_cast<const __nv_bfloat16*>(p.q) + ((int64_t)b * p.Hq + kvh * G) * HD;
  const float qscale = p.scale * 1.4426950408889634f;
  float qr[G][VEC];
#pragma unroll
  for (int g = 0; g < G; ++g) {
    uint4 u = *reinterpret_cast<const uint4*>(q + g * HD + lane * VEC);
    bf16x8_to_float(u, qr[g]);
#pragma unroll
    for (int i = 0; i < VEC; ++i) qr[g][i] *= qscale;
  }
  const int64_t head_off = ((int64_t)slot * p.Hkv + kvh) * p.max_ctx * HD;
  const __nv_bfloat16* kb = static_cast<const __nv_bfloat16*>(p.k_cache) + head_off;
  const __nv_bfloat16* vb = static_cast<const __nv_bfloat16*>(p.v_cache) + head_off;
  float m[G], l[G], acc[G][VEC];
#pragma unroll
  for (int g = 0; g < G; ++g) {
    m[g] = -FLT_MAX;
    l[g] = 0.f;
#pragma unroll
    for (int i = 0; i < VEC; ++i) acc[g][i] = 0.f;
  }
  for (int base = t0; base < t1; base += STEP) {
    uint4 kr[U], vr[U];
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int t = base + u * TPP + tok;
      if (t < t1) {
        kr[u] = ld_stream(kb + (int64_t)t * HD + lane * VEC);
        vr[u] = ld_stream(vb + (int64_t)t * HD + lane * VEC);
      } else {
        kr[u] = make_uint4(0, 0, 0, 0);
        vr[u] = kr[u];
      }
    }
#pragma unroll
    for (int u = 0; u < U; ++u) {
      float kf[VEC];
      bf16x8_to_float(kr[u], kf);
      float d[G];
#pragma unroll
      for (int g = 0; g < G; ++g) {
        float a = 0.f;
#pragma unroll
        for (int i = 0; i < VEC; ++i) a = fmaf(qr[g][i], kf[i], a);
        d[g] = a;
      }
#pragma unroll
      for (int off = LPT / 2; off > 0; off >>= 1) {
#pragma unroll
        for (int g = 0; g < G; ++g) d[g] += __shfl_xor_sync(0xffffffffu, d[g], off);
      }
      const int t = base + u * TPP + tok;
      if (t < t1) {
        float vf[VEC];
        bf16x8_to_float(vr[u], vf);
#pragma unroll
        for (int g = 0; g < G; ++g) {
          if (d[g] > m[g]) {
            const float sc = exp2f(m[g] - d[g]);
            l[g] *= sc;
#pragma unroll
            for (int i = 0; i < VEC; ++i) acc[g][i] *= sc;
            m[g] = d[g];
          }
          const float e = exp2f(d[g] - m[g]);
          l[g] += e;
#pragma unroll
          for (int i = 0; i < VEC; ++i) acc[g][i] = fmaf(e, vf[i], acc[g][i]);
        }
      }
    }
  }
  // Merge the lanes of a warp that share `lane` (different keys).
#pragma unroll
  for (int off = LPT; off < 32; off <<= 1) {
#pragma unroll
    for (int g = 0; g < G; ++g) {
      const float om = __shfl_xor_sync(0xffffffffu, m[g], off);
      const float ol = __shfl_xor_sync(0xffffffffu, l[g], off);
      const float nm = fmaxf(m[g], om);
      const float sa = m[g] == -FLT_MAX ? 0.f : exp2f(m[g] - nm);
      const float sb = om == -FLT_MAX ? 0.f : exp2f(om - nm);
#pragma unroll
      for (int i = 0; i < VEC; ++i) {
        const float oa = __shfl_xor_sync(0xffffffffu, acc[g][i], off);
        acc[g][i] = acc[g][i] * sa + oa * sb;
      }
      l[g] = l[g] * sa + ol * sb;
      m[g] = nm;
    }
  }
  if (wl < LPT) {
#pragma unroll
    for (int g = 0; g < G; ++g) {
#pragma unroll
      for (int i = 0; i < VEC; ++i) red_o[warp][g][lane * VEC + i] = acc[g][i];
      if (lane == 0) {
        red_ml[warp][g][0] = m[g];
        red_ml[warp][g][1] = l[g];
      }
    }
  }
  __syncthreads();
  for (int idx = tid; idx < G * HD; idx += kThreads) {
    const int g = idx / HD, dd = idx % HD;
    float M = -FLT_MAX;
#pragma unroll
    for (int w = 0; w < WARPS; ++w) M = fmaxf(M, red_ml[w][g][0]);
    float o = 0.f, L = 0.f;
#pragma unroll
    for (int w = 0; w < WARPS; ++w) {
      const float mw = red_ml[w][g][0];
      const float sw = mw == -FLT_MAX ? 0.f : exp2f(mw - M);
      o += red_o[w][g][dd] * sw;
      L += red_ml[w][g][1] * sw;
    }
    const int64_t row = ((int64_t)b * p.Hq + kvh * G + g) * p.num_splits + split;
    p.part_o[row * HD + dd] = o;
    if (dd == 0) {
      p.part_ml[row * 2] = M;
      p.part_ml[row * 2 + 1] = L;
    }
  }
}

__global__ void decode_attn_combine(DecodeAttnParams p) {
  const int bh = blockIdx.x;  // b * Hq + h
  const int b = bh / p.Hq;
  __nv_bfloat16* out = static_cast<__nv_bfloat16*>(p.out) + (int64_t)bh * p.HD;
  const int slot = p.slots[b];
  const int len = p.lens[b];
  if (slot < 0 || len <= 0) {
    for (int d = threadIdx.x; d < p.HD; d += blockDim.x) out[d] = __float2bfloat16(0.f);
    return;
  }
  const int used = min(p.num_splits, (len + p.split_len - 1) / p.split_len);
  const float* ml = p.part_ml + (int64_t)bh * p.num_splits * 2;
  float M = -FLT_MAX;
  for (int s = 0; s < used; ++s) M = fmaxf(M, ml[2 * s]);
  float L = 0.f;
  for (int s = 0; s < used; ++s) L += ml[2 * s + 1] * exp2f(ml[2 * s] - M);
  const float inv = 1.f / L;
  const float* po = p.part_o + (int64_t)bh * p.num_splits * p.HD;
  for (int d = threadIdx.x; d < p.HD; d += blockDim.x) {
    float o = 0.f;
    for (int s = 0; s < used; ++s) o += po[(int64_t)s * p.HD + d] * exp2f(ml[2 * s] - M);
    out[d] = __float2bfloat16(o * inv);
  }
}

int g_variant = 1;  // 1: single pass, 4 keys per thread in flight (default); 2: single pass, 8; 0: two-phase

template <int HD, int G>
cudaError_t launch(const DecodeAttnParams& p, cudaStream_t stream) {
  if ((g_variant == 1 || g_variant == 2) && G * HD <= 1024) {
    dim3 grid(p.num_splits, p.Hkv, p.B);
    if (g_variant == 2) decode_attn_1pass_kernel<HD, G, 8><<<grid, kThreads, 0, stream>>>(p);
    else decode_attn_1pass_kernel<HD, G, 4><<<grid, kThreads, 0, stream>>>(p);
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) return e;
    decode_attn_combine<<<p.B * p.Hq, std::min(128, std::max(32, p.HD)), 0, stream>>>(p);
    return cudaGetLastError();
  }
  const size_t smem = sizeof(float) * ((size_t)G * p.split_len + (size_t)(kThreads / 32) * G * HD);
  if (smem > 48 * 1024) {
    cudaError_t e = cudaFuncSetAttribute(decode_attn_kernel<HD, G>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem);
    if (e != cudaSuccess) return e;
  }
  dim3 grid(p.num_splits, p.Hkv, p.B);
  decode_attn_kernel<HD, G><<<grid, kThreads, smem, stream>>>(p);
  cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) return e;
  decode_attn_combine<<<p.B * p.Hq, std::min(128, std::max(32, p.HD)), 0, stream>>>(p);
  return cudaGetLastError();
}

template <int HD>
cudaError_t dispatch_g(const DecodeAttnParams& p, cudaStream_t stream) {
  switch (p.Hq / p.Hkv) {
    case 1: return launch<HD, 1>(p, stream);
    case 2: return launch<HD, 2>(p, stream);
    case 4: return launch<HD, 4>(p, stream);
    case 8: return launch<HD, 8>(p, stream);
    default: return cudaErrorInvalidValue;
  }
}

}  // namespace

void set_decode_attention_variant(int v) { g_variant = v; }

void decode_attention_plan(int B, int Hkv, int G, int max_len, int sms, int* num_splits, int* split_len) {
  max_len = std::max(max_len, 1);
  // Enough CTAs to fill the chip about eight times over (short tail waves), but splits of at least 128
  // keys, and at most 4096/G keys so the score buffer stays at 16 KB.
  const int target = std::max(1, (8 * sms + B * Hkv - 1) / (B * Hkv));
  int splits = std::min(target, (max_len + 127) / 128);
  const int cap = std::max(128, 4096 / std::max(1, G));
  splits = std::max(splits, (max_len + cap - 1) / cap);
  splits = std::max(splits, 1);
  int len = (max_len + splits - 1) / splits;
  len = (len + 31) / 32 * 32;
  *split_len = len;
  *num_splits = (max_len + len - 1) / len;
}

cudaError_t decode_attention(const DecodeAttnParams& p, cudaStream_t stream) {
  if (p.B == 0) return cudaSuccess;
  if (p.Hkv <= 0 || p.Hq % p.Hkv != 0) return cudaErrorInvalidValue;
  switch (p.HD) {
    case 8: return dispatch_g<8>(p, stream);
    case 16: return dispatch_g<16>(p, stream);
    case 32: return dispatch_g<32>(p, stream);
    case 64: return dispatch_g<64>(p, stream);
    case 128: return dispatch_g<128>(p, stream);
    case 256: return dispatch_g<256>(p, stream);
    default: return cudaErrorInvalidValue;
  }
}

}  // namespace hb::cuda
