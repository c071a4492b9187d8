// The m2 mixer core over packed varlen rows (see hb_cuda.h): decode (one row per sequence, the fused m2
// decode step) and prefill / chunked prefill (many rows, continuing from the saved state) are one kernel.
//
// Floor for a decode step (METHOD.md), per sequence and layer: SSM state read + written (di*N*4*2 B), conv
// window read + written ((K-1)*di*2*2 B), plus the row's z/x/B/C/dt (~(2di+2dxb+di)*2 B) and y (di*2 B);
// the per-layer constants (A, D, conv weights: ~di*(N+K+3)*4 B) are shared by the batch. "State traffic"
// in the targets counts the SSM state and conv window bytes only.
// Design: one thread per (sequence, channel) holding its N-element fp32 state and the K-1 conv inputs in
// registers, walking the sequence's rows in order; exp2 with log2(e) folded into A.
#include <cuda_bf16.h>

#include "kernels/cuda/hb_cuda.h"

namespace hb::cuda {
namespace {

constexpr int kThreads = 128;

__device__ __forceinline__ float silu(float v) { return v / (1.f + __expf(-v)); }
__device__ __forceinline__ float softplus20(float v) { return v > 20.f ? v : log1pf(__expf(v)); }

template <int N, int K>
__global__ void __launch_bounds__(kThreads) m2_kernel(M2Params p) {
  const int c = blockIdx.x * kThreads + threadIdx.x;
  const int s = blockIdx.y;
  if (c >= p.di) return;
  const int beg = p.cu_seqlens[s], end = p.cu_seqlens[s + 1];
  const int slot = p.slots[s];
  const __nv_bfloat16* proj = static_cast<const __nv_bfloat16*>(p.proj);
  const __nv_bfloat16* dtp = static_cast<const __nv_bfloat16*>(p.dt);
  __nv_bfloat16* y = static_cast<__nv_bfloat16*>(p.y);
  if (slot < 0) {
    for (int t = beg; t < end; ++t) y[(int64_t)t * p.di + c] = __float2bfloat16(0.f);
    return;
  }
  const int r = p.di / p.dxb;
  const int xb = (c / (N * r)) * N;        // first column of this channel's x/B group (after the repeat)
  const int xcol = p.di + xb + c % N;      // x~[c]
  const int bcol = p.di + p.dxb + xb;      // B row
  const int ccol = p.di + 2 * p.dxb + (c / N) * N;  // C row
  float w[K];
#pragma unroll
  for (int k = 0; k < K; ++k) w[k] = p.conv_w[(int64_t)c * K + k];
  const float cb = p.conv_b ? p.conv_b[c] : 0.f;
  const float bias = p.dt_bias2[c];
  const float Dc = p.D[c];
  float A[N];
#pragma unroll
  for (int n = 0; n < N; n += 4) {
    const float4 a = *reinterpret_cast<const float4*>(p.A2 + (int64_t)c * N + n);
    A[n] = a.x; A[n + 1] = a.y; A[n + 2] = a.z; A[n + 3] = a.w;
  }
  __nv_bfloat16* cs = static_cast<__nv_bfloat16*>(p.conv_state) + (int64_t)slot * (K - 1) * p.di + c;
  float win[K - 1];
#pragma unroll
  for (int k = 0; k < K - 1; ++k) win[k] = __bfloat162float(cs[(int64_t)k * p.di]);
  // State layout [slot][N/4][di][4]: the k-th float4 of consecutive channels is contiguous, so every
  // warp-wide 16-byte load/store is fully coalesced.
  float* hs = p.ssm_state + (int64_t)slot * p.di * N + (int64_t)c * 4;
  float h[N];
#pragma unroll
  for (int n = 0; n < N; n += 4) {
    const float4 v = *reinterpret_cast<const float4*>(hs + (int64_t)(n / 4) * p.di * 4);
    h[n] = v.x; h[n + 1] = v.y; h[n + 2] = v.z; h[n + 3] = v.w;
  }
  for (int t = beg; t < end; ++t) {
    const __nv_bfloat16* row = proj + (int64_t)t * p.ld_proj;
    const float xt = __bfloat162float(row[xcol]);
    float acc = cb;
#pragma unroll
    for (int k = 0; k < K - 1; ++k) acc = fmaf(w[k], win[k], acc);
    acc = fmaf(w[K - 1], xt, acc);
#pragma unroll
    for (int k = 0; k < K - 2; ++k) win[k] = win[k + 1];
    win[K - 2] = xt;
    const float xc = silu(acc);
    const float d = softplus20(__bfloat162float(dtp[(int64_t)t * p.ld_dt + c]) + bias);
    const float dx = d * xc;
    float out = 0.f;
#pragma unroll
    for (int n = 0; n < N; ++n) {
      const float bn = __bfloat162float(row[bcol + n]);
      const float cn = __bfloat162float(row[ccol + n]);
      h[n] = fmaf(exp2f(d * A[n]), h[n], dx * bn);
      out = fmaf(cn, h[n], out);
    }
    out = fmaf(Dc, xc, out);
    const float z = __bfloat162float(row[c]);
    y[(int64_t)t * p.di + c] = __float2bfloat16(out * silu(z));
  }
#pragma unroll
  for (int n = 0; n < N; n += 4) {
    *reinterpret_cast<float4*>(hs + (int64_t)(n / 4) * p.di * 4) = make_float4(h[n], h[n + 1], h[n + 2], h[n + 3]);
  }
#pragma unroll
  for (int k = 0; k < K - 1; ++k) cs[(int64_t)k * p.di] = __float2bfloat16(win[k]);
}

template <int N>
cudaError_t launch(const M2Params& p, cudaStream_t stream) {
  if (p.K != 4) return cudaErrorInvalidValue;
  dim3 grid((p.di + kThreads - 1) / kThreads, p.nseq);
  m2_kernel<N, 4><<<grid, kThreads, 0, stream>>>(p);
  return cudaGetLastError();
}

}  // namespace

cudaError_t m2_scan(const M2Params& p, cudaStream_t stream) {
  if (p.nseq == 0) return cudaSuccess;
  if (p.dxb <= 0 || p.di % p.dxb != 0 || p.dxb % p.N != 0) return cudaErrorInvalidValue;
  switch (p.N) {
    case 4: return launch<4>(p, stream);
    case 8: return launch<8>(p, stream);
    case 16: return launch<16>(p, stream);
    case 32: return launch<32>(p, stream);
    default: return cudaErrorInvalidValue;
  }
}

}  // namespace hb::cuda
