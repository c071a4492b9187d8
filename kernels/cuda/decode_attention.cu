// Decode attention for GQA over the slot-based KV cache (see hb_cuda.h).
//
// Floor (METHOD.md, written before the change): every K and V byte of the attended context is read once:
//   bytes = B * Hkv * len * HD * 2 (K and V) * 2 B (4,096 B per token per layer for Hkv 8 / HD 128:
//   67.1 MB at B=1, 16k -> 20.0 us at 3.35 TB/s; 537 MB at B=8 -> 160 us; 2.15 GB at B=32 -> 641 us);
//   plus the split partials written and read once: B * Hq * splits * (HD + 2) * 4 B * 2 (at most a few MB:
//   B=1, 32 splits: 1.1 MB, 5 % of the K/V bytes at 128 splits, which is why small B wants few, long splits);
//   FLOPs = 4 * B * Hq * len * HD (tiny next to the bytes: CUDA-core FMAs suffice).
// Design: grid (split, kv head x head chunk, batch). A CTA of 128 threads streams its split of K and V with
// 16-byte loads (HD/8 lanes per key, 8 keys per thread in flight: 32 KB per CTA per step), computes the scores
// of the GS query heads it serves against each key from registers (one read serves the whole group), and keeps
// an online softmax (m, l, acc) per head per thread with one rescale per 8-key chunk; lanes merge by shuffles,
// warps in shared memory. The log2-domain partials (o, m, l) go to scratch; the combine kernel merges the
// splits. Lengths only: no mask is materialised.
// Plan (measured on the H100, 2026-11-23, 16k context, B = 1..32): one wave of at most 2 CTAs per SM (168
// registers: 3 would fit) with equal, long splits - 32 splits at B=1, 1 at B=32 - was the best or within 1 %
// of the best of {4 or 8 keys per thread in flight, a cp.async 3-stage shared-memory ring} x {2, 4, 8 CTAs per
// SM} at every batch; the other kernels were deleted. The plan is a pure function of (B, Hkv, G, HD, max_len,
// SM count): CUDA graphs capture it.
#include <cuda_bf16.h>

#include <algorithm>
#include <cfloat>

#include "kernels/cuda/hb_cuda.h"
#include "kernels/cuda/pdl.cuh"

namespace hb::cuda {
namespace {

// The keys of one split for a row of `len` keys: the row's actual length divided over the plan's fixed
// number of splits (multiples of 32). The split count is fixed per CUDA graph (a function of the pool's max
// context), but the context grows every step: dividing the actual length keeps every split busy at any
// context instead of leaving the splits past `len` idle.
__device__ __forceinline__ int row_split_len(int len, int num_splits) {
  const int s = (len + num_splits - 1) / num_splits;
  return max(32, (s + 31) / 32 * 32);
}

// The first attended key of a row of `len` keys: with a sliding window of W keys (Mistral's: the query at
// position len-1 sees positions > len-1-W), max(0, len - W); the splits divide the keys from there.
__device__ __forceinline__ int first_key(int len, int window) { return window > 0 ? max(0, len - window) : 0; }

constexpr int kThreads = 128;
constexpr int kWarps = kThreads / 32;
constexpr int kKeysInFlight = 8;  // keys per thread loaded per step (K and V: 256 B per thread in flight)

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

// What the kernel's pieces share: the CTA's coordinates, q in registers, the online-softmax state.
template <int HD, int GS>
struct Tile {
  static constexpr int VEC = 8, LPT = HD / VEC, TPP = kThreads / LPT;
  int split, b, kvh, h0, t0, t1, lane, tok;
  const __nv_bfloat16* kb;
  const __nv_bfloat16* vb;
  float qr[GS][VEC], m[GS], l[GS], acc[GS][VEC];

  // Returns false when the CTA has nothing to do (padding row or split past the sequence's length).
  __device__ __forceinline__ bool init(const DecodeAttnParams& p) {
    split = blockIdx.x;
    b = blockIdx.z;
    const int G = p.Hq / p.Hkv, chunks = G / GS;
    kvh = blockIdx.y / chunks;
    h0 = kvh * G + (blockIdx.y % chunks) * GS;
    const int slot = p.slots[b];
    const int len = p.lens[b];
    const int lo = first_key(len, p.window);
    const int split_len = row_split_len(len - lo, p.num_splits);
    t0 = lo + split * split_len;
    if (slot < 0 || t0 >= len) return false;  // the combine kernel only reads the splits that hold keys
    t1 = min(len, t0 + split_len);
    lane = threadIdx.x % LPT;
    tok = threadIdx.x / LPT;
    const __nv_bfloat16* q = static_cast<const __nv_bfloat16*>(p.q) + ((int64_t)b * p.Hq + h0) * HD;
    const float qscale = p.scale * 1.4426950408889634f;  // scores in log2 units
#pragma unroll
    for (int g = 0; g < GS; ++g) {
      uint4 u = *reinterpret_cast<const uint4*>(q + g * HD + lane * VEC);
      bf16x8_to_float(u, qr[g]);
#pragma unroll
      for (int i = 0; i < VEC; ++i) qr[g][i] *= qscale;
      m[g] = -FLT_MAX;
      l[g] = 0.f;
#pragma unroll
      for (int i = 0; i < VEC; ++i) acc[g][i] = 0.f;
    }
    const int64_t head_off = ((int64_t)slot * p.Hkv + kvh) * p.max_ctx * HD;
    kb = static_cast<const __nv_bfloat16*>(p.k_cache) + head_off;
    vb = static_cast<const __nv_bfloat16*>(p.v_cache) + head_off;
    return true;
  }

  // Scores of U keys (this thread's slice of each) for every head, summed over the key's LPT lanes.
  template <int U>
  __device__ __forceinline__ void scores(const uint4 (&kr)[U], float (&d)[U][GS]) const {
#pragma unroll
    for (int u = 0; u < U; ++u) {
      float kf[VEC];
      bf16x8_to_float(kr[u], kf);
#pragma unroll
      for (int g = 0; g < GS; ++g) {
        float a = 0.f;
#pragma unroll
        for (int i = 0; i < VEC; ++i) a = fmaf(qr[g][i], kf[i], a);
        d[u][g] = a;
      }
    }
#pragma unroll
    for (int off = LPT / 2; off > 0; off >>= 1)
#pragma unroll
      for (int u = 0; u < U; ++u)
#pragma unroll
        for (int g = 0; g < GS; ++g) d[u][g] += __shfl_xor_sync(0xffffffffu, d[u][g], off);
  }

  // Online softmax over a chunk of U keys (key u is valid when ok[u]): one rescale per chunk, one exp2 per key.
  template <int U>
  __device__ __forceinline__ void accumulate(const float (&d)[U][GS], const uint4 (&vr)[U], const bool (&ok)[U]) {
#pragma unroll
    for (int g = 0; g < GS; ++g) {
      float mx = m[g];
#pragma unroll
      for (int u = 0; u < U; ++u) mx = ok[u] ? fmaxf(mx, d[u][g]) : mx;
      const float sc = exp2f(m[g] - mx);  // 1 when the max did not move; 0 on the first chunk (m = -FLT_MAX)
      l[g] *= sc;
#pragma unroll
      for (int i = 0; i < VEC; ++i) acc[g][i] *= sc;
      m[g] = mx;
    }
#pragma unroll
    for (int u = 0; u < U; ++u) {
      if (!ok[u]) continue;  // masked keys: their V bytes were never loaded
      float vf[VEC];
      bf16x8_to_float(vr[u], vf);
#pragma unroll
      for (int g = 0; g < GS; ++g) {
        const float e = exp2f(d[u][g] - m[g]);
        l[g] += e;
#pragma unroll
        for (int i = 0; i < VEC; ++i) acc[g][i] = fmaf(e, vf[i], acc[g][i]);
      }
    }
  }

  // Merges the threads' partial softmax states and writes the split's (o, m, l). `red` holds
  // kWarps * GS * (HD + 2) floats; the caller guarantees no thread still reads what it aliases.
  __device__ __forceinline__ void finish(const DecodeAttnParams& p, float* red) {
    const int wl = threadIdx.x % 32, warp = threadIdx.x / 32;
#pragma unroll
    for (int off = LPT; off < 32; off <<= 1) {
#pragma unroll
      for (int g = 0; g < GS; ++g) {
        const float om = __shfl_xor_sync(0xffffffffu, m[g], off);
        const float ol = __shfl_xor_sync(0xffffffffu, l[g], off);
        const float nm = fmaxf(m[g], om);
        const float sa = exp2f(m[g] - nm), sb = exp2f(om - nm);  // -FLT_MAX - finite -> exp2 -> 0
#pragma unroll
        for (int i = 0; i < VEC; ++i) {
          const float oa = __shfl_xor_sync(0xffffffffu, acc[g][i], off);
          acc[g][i] = acc[g][i] * sa + oa * sb;
        }
        l[g] = l[g] * sa + ol * sb;
        m[g] = nm;
      }
    }
    float* red_o = red;                          // [kWarps][GS][HD]
    float* red_ml = red + kWarps * GS * HD;      // [kWarps][GS][2]
    if (wl < LPT) {
#pragma unroll
      for (int g = 0; g < GS; ++g) {
#pragma unroll
        for (int i = 0; i < VEC; ++i) red_o[(warp * GS + g) * HD + lane * VEC + i] = acc[g][i];
        if (lane == 0) {
          red_ml[(warp * GS + g) * 2] = m[g];
          red_ml[(warp * GS + g) * 2 + 1] = l[g];
        }
      }
    }
    __syncthreads();
    for (int idx = threadIdx.x; idx < GS * HD; idx += kThreads) {
      const int g = idx / HD, dd = idx % HD;
      float M = -FLT_MAX;
#pragma unroll
      for (int w = 0; w < kWarps; ++w) M = fmaxf(M, red_ml[(w * GS + g) * 2]);
      float o = 0.f, L = 0.f;
#pragma unroll
      for (int w = 0; w < kWarps; ++w) {
        const float sw = exp2f(red_ml[(w * GS + g) * 2] - M);
        o += red_o[(w * GS + g) * HD + dd] * sw;
        L += red_ml[(w * GS + g) * 2 + 1] * sw;
      }
      const int64_t row = ((int64_t)b * p.Hq + h0 + g) * p.num_splits + split;
      p.part_o[row * HD + dd] = o;
      if (dd == 0) {
        p.part_ml[row * 2] = M;
        p.part_ml[row * 2 + 1] = L;
      }
    }
  }
};

// U keys per thread loaded (K and V together), then consumed.
template <int HD, int GS, int U>
__global__ void __launch_bounds__(kThreads) decode_attn_kernel(DecodeAttnParams p) {
  using T = Tile<HD, GS>;
  __shared__ float red[kWarps * GS * (HD + 2)];
  pdl_trigger();
  pdl_wait();  // pdl.cuh: nothing before this reads or writes what earlier kernels touch
  T s;
  if (!s.init(p)) return;
  constexpr int STEP = T::TPP * U;
  for (int base = s.t0; base < s.t1; base += STEP) {
    uint4 kr[U], vr[U];
    bool ok[U];
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int t = base + u * T::TPP + s.tok;
      ok[u] = t < s.t1;
      if (ok[u]) {
        kr[u] = ld_stream(s.kb + (int64_t)t * HD + s.lane * T::VEC);
        vr[u] = ld_stream(s.vb + (int64_t)t * HD + s.lane * T::VEC);
      } else {
        kr[u] = make_uint4(0, 0, 0, 0);
        vr[u] = kr[u];
      }
    }
    float d[U][GS];
    s.scores<U>(kr, d);
    s.accumulate<U>(d, vr, ok);
  }
  s.finish(p, red);
}

// Merges the splits of one (sequence, query head): weights exp2(m_s - M) in shared memory, then every thread
// sums a float4 column over a stripe of splits (all loads independent) and the stripes meet in shared memory.
// Floor: B * Hq * used * (HD + 2) * 4 B read (L2-resident: just written), B * Hq * HD * 2 B written.
constexpr int kCombineThreads = 128;
__global__ void __launch_bounds__(kCombineThreads) attn_combine_kernel(DecodeAttnParams p) {
  extern __shared__ float wsm[];  // [num_splits]
  __shared__ float4 part[kCombineThreads];
  __shared__ float red[kCombineThreads / 32];
  pdl_trigger();
  pdl_wait();  // pdl.cuh: nothing before this reads or writes what earlier kernels touch
  const int bh = blockIdx.x, b = bh / p.Hq, tid = threadIdx.x;
  __nv_bfloat16* out = static_cast<__nv_bfloat16*>(p.out) + (int64_t)bh * p.HD;
  const int slot = p.slots[b];
  const int len = p.lens[b];
  if (slot < 0 || len <= 0) {
    for (int d = tid; d < p.HD; d += kCombineThreads) out[d] = __float2bfloat16(0.f);
    return;
  }
  const int span = len - first_key(len, p.window);
  const int split_len = row_split_len(span, p.num_splits);
  const int used = min(p.num_splits, (span + split_len - 1) / split_len);
  const float* ml = p.part_ml + (int64_t)bh * p.num_splits * 2;
  float mx = -FLT_MAX;
  for (int s = tid; s < used; s += kCombineThreads) mx = fmaxf(mx, ml[2 * s]);
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, off));
  if (tid % 32 == 0) red[tid / 32] = mx;
  __syncthreads();
  float M = red[0];
#pragma unroll
  for (int w = 1; w < kCombineThreads / 32; ++w) M = fmaxf(M, red[w]);
  float L = 0.f;
  for (int s = tid; s < used; s += kCombineThreads) {
    const float w = exp2f(ml[2 * s] - M);
    wsm[s] = w;
    L += w * ml[2 * s + 1];
  }
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) L += __shfl_xor_sync(0xffffffffu, L, off);
  __syncthreads();  // red (the max) fully read; wsm written
  if (tid % 32 == 0) red[tid / 32] = L;
  __syncthreads();
  L = 0.f;
#pragma unroll
  for (int w = 0; w < kCombineThreads / 32; ++w) L += red[w];
  const int C4 = p.HD / 4, stripes = kCombineThreads / C4;  // HD <= 256 -> C4 <= 64, stripes >= 2
  const int col = tid % C4, stripe = tid / C4;
  const float4* po = reinterpret_cast<const float4*>(p.part_o + (int64_t)bh * p.num_splits * p.HD) + col;
  float4 a = make_float4(0.f, 0.f, 0.f, 0.f);
  if (stripe < stripes) {
#pragma unroll 4
    for (int s = stripe; s < used; s += stripes) {
      const float4 v = po[(int64_t)s * C4];
      const float w = wsm[s];
      a.x = fmaf(w, v.x, a.x);
      a.y = fmaf(w, v.y, a.y);
      a.z = fmaf(w, v.z, a.z);
      a.w = fmaf(w, v.w, a.w);
    }
  }
  part[tid] = a;
  __syncthreads();
  if (tid < C4) {
    for (int r = 1; r < stripes; ++r) {
      const float4 v = part[r * C4 + tid];
      a.x += v.x;
      a.y += v.y;
      a.z += v.z;
      a.w += v.w;
    }
    const float inv = 1.f / L;
    __nv_bfloat162* o2 = reinterpret_cast<__nv_bfloat162*>(out + 4 * tid);
    o2[0] = __floats2bfloat162_rn(a.x * inv, a.y * inv);
    o2[1] = __floats2bfloat162_rn(a.z * inv, a.w * inv);
  }
}

int g_ctas_per_sm = 0;  // 0: the plan's choice

// Heads per CTA: all G of the group when G * HD <= 1024 (registers), else chunks (K/V read G*HD/1024 times).
template <int HD>
cudaError_t dispatch(const DecodeAttnParams& p, cudaStream_t stream) {
  const int G = p.Hq / p.Hkv;
  const int GS = std::min(G, std::max(1, 1024 / HD));
  dim3 grid(p.num_splits, p.Hkv * (G / GS), p.B);
  switch (GS) {
    case 1: return launch_pdl(decode_attn_kernel<HD, 1, kKeysInFlight>, grid, dim3(kThreads), 0, stream, p);
    case 2: return launch_pdl(decode_attn_kernel<HD, 2, kKeysInFlight>, grid, dim3(kThreads), 0, stream, p);
    case 4: return launch_pdl(decode_attn_kernel<HD, 4, kKeysInFlight>, grid, dim3(kThreads), 0, stream, p);
    case 8: return launch_pdl(decode_attn_kernel<HD, 8, kKeysInFlight>, grid, dim3(kThreads), 0, stream, p);
    default: return cudaErrorInvalidValue;
  }
}

}  // namespace

void set_decode_attention_ctas_per_sm(int ctas_per_sm) { g_ctas_per_sm = ctas_per_sm; }

DecodeAttnPlan decode_attention_plan(int B, int Hkv, int G, int HD, int max_len, int sms) {
  max_len = std::max(max_len, 1);
  B = std::max(B, 1);
  sms = std::max(sms, 1);
  DecodeAttnPlan plan{};
  const int heads = B * Hkv * std::max(1, G * HD / 1024);  // CTAs per split
  // Splits: at most `per_sm` CTAs per SM in total, i.e. one wave of equal CTAs that all finish together; few
  // long splits keep the combine cheap and each CTA streaming. At least 32 keys each, at most 1024 splits.
  // Rounded down: one split too many on a full wave costs a second wave.
  const int per_sm = g_ctas_per_sm ? g_ctas_per_sm : 2;
  int splits = std::max(1, per_sm * sms / heads);
  // More (batch x KV head) pairs than one wave holds even unsplit (B > ~33 at Hkv 8): whole-context CTAs
  // would run in 2-3 waves with a ragged last one (b=69: 552 CTAs on 264 places, 70 % busy). Short splits of
  // at most 1,024 keys make many waves, so the tail is a few percent.
  if (heads > per_sm * sms) splits = (max_len + 1023) / 1024;
  splits = std::min({splits, (max_len + 31) / 32, 1024});
  int len = (max_len + splits - 1) / splits;
  len = (len + 31) / 32 * 32;
  plan.split_len = len;
  plan.num_splits = (max_len + len - 1) / len;
  return plan;
}

cudaError_t decode_attention(const DecodeAttnParams& p, cudaStream_t stream) {
  if (p.B == 0) return cudaSuccess;
  if (p.Hkv <= 0 || p.Hq % p.Hkv != 0 || p.num_splits < 1 || p.split_len < 1 || p.window < 0) return cudaErrorInvalidValue;
  cudaError_t e;
  switch (p.HD) {
    case 8: e = dispatch<8>(p, stream); break;
    case 16: e = dispatch<16>(p, stream); break;
    case 32: e = dispatch<32>(p, stream); break;
    case 64: e = dispatch<64>(p, stream); break;
    case 128: e = dispatch<128>(p, stream); break;
    case 256: e = dispatch<256>(p, stream); break;
    default: return cudaErrorInvalidValue;
  }
  if (e != cudaSuccess) return e;
  const size_t smem = sizeof(float) * (size_t)p.num_splits;
  return launch_pdl(attn_combine_kernel, dim3(p.B * p.Hq), dim3(kCombineThreads), smem, stream, p);
}

}  // namespace hb::cuda
