// RoPE + KV write, RMSNorm + residual and SwiGLU (see hb_cuda.h; sampling: sampling.cu), launched with PDL
// (pdl.cuh). All memory-bound; floors:
//   rope_kv_write: read qkv (T*(Hq+2Hkv)*HD*2 B), write q + k + v (same bytes).
//   rms_norm_residual: read residual fp32 + delta bf16, write residual fp32 + out bf16: T*H*(4+2+4+2) B.
//   swiglu: read T*2I*2 B, write T*I*2 B.
#include <cuda_bf16.h>

#include <algorithm>
#include <cfloat>

#include "kernels/cuda/hb_cuda.h"
#include "kernels/cuda/pdl.cuh"

namespace hb::cuda {
namespace {

__global__ void rope_kv_kernel(RopeKVParams p) {
  pdl_trigger();
  pdl_wait();  // pdl.cuh: nothing before this reads or writes what earlier kernels touch
  const int t = blockIdx.x;
  const int HD = p.HD, half = HD / 2;
  const int width = (p.Hq + 2 * p.Hkv) * HD;
  const __nv_bfloat16* row = static_cast<const __nv_bfloat16*>(p.qkv) + (int64_t)t * width;
  const int pos = p.pos[t];
  const int slot = p.slots[t];
  const float* cs = p.cos + (int64_t)pos * half;
  const float* sn = p.sin + (int64_t)pos * half;
  __nv_bfloat16* qo = static_cast<__nv_bfloat16*>(p.q_out) + (int64_t)t * p.Hq * HD;
  // Pairs (i, i + half) of the Hq query heads and Hkv key heads.
  const int pairs = (p.Hq + p.Hkv) * half;
  for (int idx = threadIdx.x; idx < pairs; idx += blockDim.x) {
    const int h = idx / half, i = idx % half;
    const float x1 = __bfloat162float(row[h * HD + i]);
    const float x2 = __bfloat162float(row[h * HD + i + half]);
    const float c = cs[i], s = sn[i];
    const float y1 = x1 * c - x2 * s, y2 = x2 * c + x1 * s;
    if (h < p.Hq) {
      qo[h * HD + i] = __float2bfloat16(y1);
      qo[h * HD + i + half] = __float2bfloat16(y2);
    } else if (slot >= 0) {
      const int kh = h - p.Hq;
      __nv_bfloat16* kc = static_cast<__nv_bfloat16*>(p.k_cache) + (((int64_t)slot * p.Hkv + kh) * p.max_ctx + pos) * HD;
      kc[i] = __float2bfloat16(y1);
      kc[i + half] = __float2bfloat16(y2);
    }
  }
  if (slot >= 0) {
    const __nv_bfloat16* v = row + (p.Hq + p.Hkv) * HD;
    for (int idx = threadIdx.x; idx < p.Hkv * HD; idx += blockDim.x) {
      const int kh = idx / HD, d = idx % HD;
      __nv_bfloat16* vc = static_cast<__nv_bfloat16*>(p.v_cache) + (((int64_t)slot * p.Hkv + kh) * p.max_ctx + pos) * HD;
      vc[d] = v[idx];
    }
  }
}

template <int THREADS>
__device__ float block_sum(float v, float* buf) {
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
  const int w = threadIdx.x / 32, l = threadIdx.x % 32;
  if (l == 0) buf[w] = v;
  __syncthreads();
  float s = 0.f;
#pragma unroll
  for (int i = 0; i < THREADS / 32; ++i) s += buf[i];
  __syncthreads();
  return s;
}

template <int THREADS>
__global__ void __launch_bounds__(THREADS) rms_kernel(RmsNormParams p) {
  __shared__ float buf[THREADS / 32];
  pdl_trigger();
  pdl_wait();  // pdl.cuh: nothing before this reads or writes what earlier kernels touch
  const int t = blockIdx.x;
  float* r = p.residual + (int64_t)t * p.H;
  const __nv_bfloat16* d = p.delta ? static_cast<const __nv_bfloat16*>(p.delta) + (int64_t)t * p.H : nullptr;
  const __nv_bfloat16* w = static_cast<const __nv_bfloat16*>(p.w);
  __nv_bfloat16* o = static_cast<__nv_bfloat16*>(p.out) + (int64_t)t * p.H;
  float ss = 0.f;
  for (int i = threadIdx.x; i < p.H; i += THREADS) {
    float v = r[i];
    if (d) {
      v += __bfloat162float(d[i]);
      r[i] = v;
    }
    ss += v * v;
  }
  const float inv = rsqrtf(block_sum<THREADS>(ss, buf) / p.H + p.eps);
  for (int i = threadIdx.x; i < p.H; i += THREADS) o[i] = __float2bfloat16(r[i] * inv * __bfloat162float(w[i]));
}

__global__ void swiglu_kernel(const __nv_bfloat16* gu, __nv_bfloat16* out, int T, int I) {
  pdl_trigger();
  pdl_wait();  // pdl.cuh: nothing before this reads or writes what earlier kernels touch
  const int64_t total = (int64_t)T * I;
  for (int64_t idx = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; idx < total; idx += (int64_t)gridDim.x * blockDim.x) {
    const int64_t t = idx / I, i = idx % I;
    const float g = __bfloat162float(gu[t * 2 * I + i]);
    const float u = __bfloat162float(gu[t * 2 * I + I + i]);
    out[idx] = __float2bfloat16(g / (1.f + __expf(-g)) * u);
  }
}

}  // namespace

cudaError_t rope_kv_write(const RopeKVParams& p, cudaStream_t stream) {
  if (p.T == 0) return cudaSuccess;
  return launch_pdl(rope_kv_kernel, dim3(p.T), dim3(256), 0, stream, p);
}

cudaError_t rms_norm_residual(const RmsNormParams& p, cudaStream_t stream) {
  if (p.T == 0) return cudaSuccess;
  if (p.H >= 2048) return launch_pdl(rms_kernel<512>, dim3(p.T), dim3(512), 0, stream, p);
  return launch_pdl(rms_kernel<64>, dim3(p.T), dim3(64), 0, stream, p);
}

cudaError_t swiglu(const void* gate_up, void* out, int T, int I, cudaStream_t stream) {
  const int64_t total = (int64_t)T * I;
  if (total == 0) return cudaSuccess;
  const int blocks = (int)std::min<int64_t>((total + 255) / 256, 132 * 16);
  return launch_pdl(swiglu_kernel, dim3(blocks), dim3(256), 0, stream, static_cast<const __nv_bfloat16*>(gate_up),
                    static_cast<__nv_bfloat16*>(out), T, I);
}

}  // namespace hb::cuda
