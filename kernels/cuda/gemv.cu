// Weight-streaming GEMM for the decode step's few rows (issue #14): y[M, N] = x[M, K] . W[N, K]^T in bf16
// with fp32 accumulation, M <= 8. cuBLAS streams 1-8-row GEMMs well below the HBM ceiling (its tiles are
// built for large M), and at batch 1 these GEMMs are ~95% of the step's bytes.
// Floor: the weight bytes N*K*2 (x and y are tiny and stay in L1/L2): 6144 x 5120 (q|k|v) = 62.9 MB ->
// 14.6 us at 4.3 TB/s; the teacher's whole step ~28.6 GB -> ~6.7 ms.
// Design: one warp owns R consecutive output rows; its lanes walk K in 16-byte vectors (8 bf16), R weight
// loads (streaming, evict-first) and M activation loads (cached: every warp reads the same x) per step, two
// steps unrolled so 2R weight loads are in flight per lane; M x R fp32 accumulators reduced by shuffles at
// the end. The activation loads per weight load are M/R, so L1 is not the limit at M = 8. Launched with PDL
// (pdl.cuh): the first weight loads overlap the previous kernel's tail, and the kernel signals its dependents
// only after its main loop. Software-pipelined: the next step's
// loads are issued before this step's FMAs (4R vectors in flight per lane).
// Fusions for one row (hb_cuda.h): RMSNorm or SwiGLU built into shared memory by each CTA of a persistent
// wave (the prologue costs an L2 read of the 20-30 KB input row per CTA, ~400 CTAs: ~10 MB, against 63-294 MB
// of weights), and the residual add in the epilogue; this removes the norm and activation kernels (3 of the
// 10 per attention layer) from the one-row decode step.
#include <cuda_bf16.h>

#include <algorithm>
#include <cstdint>

#include "kernels/cuda/hb_cuda.h"
#include "kernels/cuda/pdl.cuh"

namespace hb::cuda {
namespace {

constexpr int kGemvWarps = 8;

__device__ __forceinline__ void fma8(float& acc, const uint4& w, const uint4& x) {
  const __nv_bfloat162* wp = reinterpret_cast<const __nv_bfloat162*>(&w);
  const __nv_bfloat162* xp = reinterpret_cast<const __nv_bfloat162*>(&x);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const float2 a = __bfloat1622float2(wp[i]), b = __bfloat1622float2(xp[i]);
    acc = fmaf(a.x, b.x, acc);
    acc = fmaf(a.y, b.y, acc);
  }
}

// The fused inputs (GemvInput, hb_cuda.h): every CTA builds the one input row in shared memory. All threads
// of the CTA take part (block reduction, then __syncthreads by the caller).
template <GemvInput IN>
__device__ __forceinline__ void build_input(const GemvParams& p, uint4* xs) {
  const int tid = threadIdx.x, k8 = p.K / 8;
  if constexpr (IN == GemvInput::rms_norm) {
    __shared__ float red[kGemvWarps];
    const float4* r4 = reinterpret_cast<const float4*>(p.x_res);
    float ss = 0.f;
    for (int i = tid; i < k8 * 2; i += kGemvWarps * 32) {
      const float4 v = r4[i];
      ss += v.x * v.x + v.y * v.y + v.z * v.z + v.w * v.w;
    }
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) ss += __shfl_xor_sync(0xffffffffu, ss, off);
    if (tid % 32 == 0) red[tid / 32] = ss;
    __syncthreads();
    float sum = 0.f;
#pragma unroll
    for (int i = 0; i < kGemvWarps; ++i) sum += red[i];
    const float inv = rsqrtf(sum / p.K + p.eps);  // as rms_kernel (elementwise.cu) computes it
    const uint4* nw = static_cast<const uint4*>(p.norm_w);
    for (int i = tid; i < k8; i += kGemvWarps * 32) {
      const float4 a = r4[2 * i], b = r4[2 * i + 1];
      const uint4 wv = __ldg(nw + i);
      const __nv_bfloat162* w2 = reinterpret_cast<const __nv_bfloat162*>(&wv);
      const float r[8] = {a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w};
      uint4 out;
      __nv_bfloat16* o = reinterpret_cast<__nv_bfloat16*>(&out);
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const float2 wf = __bfloat1622float2(w2[j]);
        o[2 * j] = __float2bfloat16(r[2 * j] * inv * wf.x);
        o[2 * j + 1] = __float2bfloat16(r[2 * j + 1] * inv * wf.y);
      }
      xs[i] = out;
    }
  } else if constexpr (IN == GemvInput::swiglu) {
    const uint4* g8 = static_cast<const uint4*>(p.x);
    for (int i = tid; i < k8; i += kGemvWarps * 32) {
      const uint4 gv = g8[i], uv = g8[k8 + i];
      const __nv_bfloat16* g = reinterpret_cast<const __nv_bfloat16*>(&gv);
      const __nv_bfloat16* u = reinterpret_cast<const __nv_bfloat16*>(&uv);
      uint4 out;
      __nv_bfloat16* o = reinterpret_cast<__nv_bfloat16*>(&out);
#pragma unroll
      for (int j = 0; j < 8; ++j) {
        const float gf = __bfloat162float(g[j]);
        o[j] = __float2bfloat16(gf / (1.f + __expf(-gf)) * __bfloat162float(u[j]));  // as swiglu_kernel
      }
      xs[i] = out;
    }
  }
}

// Points w[r] at rows n0..n0+R-1 (rows past N re-read the last row; they are never written) and issues the
// first step's 2R weight loads.
template <int R>
__device__ __forceinline__ void start_rows(const GemvParams& p, int64_t n0, int lane, const uint4* (&w)[R], uint4 (&wa)[R],
                                           uint4 (&wb)[R]) {
#pragma unroll
  for (int r = 0; r < R; ++r) {
    const int64_t n = n0 + r < p.N ? n0 + r : p.N - 1;
    w[r] = reinterpret_cast<const uint4*>(static_cast<const __nv_bfloat16*>(p.w) + n * p.ldw);
  }
  if (n0 < p.N && lane + 32 < p.K / 8) {
#pragma unroll
    for (int r = 0; r < R; ++r) {
      wa[r] = __ldcs(w[r] + lane);
      wb[r] = __ldcs(w[r] + lane + 32);
    }
  }
}

// One warp's R rows from n0 (< N), the first step's weights already in wa/wb: the dot products over K,
// software-pipelined (the next step's 2R weight vectors are in flight while this step's are consumed), then
// stored (bf16 y) or added to the fp32 residual (ADD, M == 1). x: shared memory (xs) or global (p.x).
template <int M, int R, bool SMEM_X, bool ADD>
__device__ __forceinline__ void dot_rows(const GemvParams& p, int64_t n0, int lane, const uint4* const (&w)[R], uint4 (&wa)[R],
                                         uint4 (&wb)[R], const uint4* xs) {
  const int k8 = p.K / 8;
  const uint4* x[M];
#pragma unroll
  for (int m = 0; m < M; ++m) x[m] = reinterpret_cast<const uint4*>(static_cast<const __nv_bfloat16*>(p.x) + m * p.ldx);
  float acc[M][R];
#pragma unroll
  for (int m = 0; m < M; ++m)
#pragma unroll
    for (int r = 0; r < R; ++r) acc[m][r] = 0.f;
  int k = lane;
  for (; k + 32 < k8; k += 64) {
    uint4 na[R], nb[R];
    const bool more = k + 96 < k8;
    if (more) {
#pragma unroll
      for (int r = 0; r < R; ++r) {
        na[r] = __ldcs(w[r] + k + 64);
        nb[r] = __ldcs(w[r] + k + 96);
      }
    }
#pragma unroll
    for (int m = 0; m < M; ++m) {
      const uint4 xa = SMEM_X ? xs[k] : __ldg(x[m] + k), xb = SMEM_X ? xs[k + 32] : __ldg(x[m] + k + 32);
#pragma unroll
      for (int r = 0; r < R; ++r) {
        fma8(acc[m][r], wa[r], xa);
        fma8(acc[m][r], wb[r], xb);
      }
    }
    if (more) {
#pragma unroll
      for (int r = 0; r < R; ++r) {
        wa[r] = na[r];
        wb[r] = nb[r];
      }
    }
  }
  for (; k < k8; k += 32) {
    uint4 wt[R];
#pragma unroll
    for (int r = 0; r < R; ++r) wt[r] = __ldcs(w[r] + k);
#pragma unroll
    for (int m = 0; m < M; ++m) {
      const uint4 xa = SMEM_X ? xs[k] : __ldg(x[m] + k);
#pragma unroll
      for (int r = 0; r < R; ++r) fma8(acc[m][r], wt[r], xa);
    }
  }
#pragma unroll
  for (int m = 0; m < M; ++m)
#pragma unroll
    for (int r = 0; r < R; ++r)
#pragma unroll
      for (int off = 16; off > 0; off >>= 1) acc[m][r] += __shfl_xor_sync(0xffffffffu, acc[m][r], off);
  if (lane == 0) {
    __nv_bfloat16* y = static_cast<__nv_bfloat16*>(p.y);
#pragma unroll
    for (int r = 0; r < R; ++r) {
      if (n0 + r >= p.N) break;
      if constexpr (ADD) {
        p.y_res[n0 + r] += acc[0][r];  // M == 1; each row has one owner warp
      } else {
#pragma unroll
        for (int m = 0; m < M; ++m) y[m * p.ldy + n0 + r] = __float2bfloat16(acc[m][r]);
      }
    }
  }
}

// Plain input: one CTA per 8R rows, each warp R of them. The first weight loads are issued before pdl_wait
// (weights are constant): they overlap the previous kernel's tail (pdl.cuh).
template <int M, int R, bool ADD>
__global__ void __launch_bounds__(kGemvWarps * 32) gemv_kernel(GemvParams p) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t n0 = ((int64_t)blockIdx.x * kGemvWarps + warp) * R;
  const uint4* w[R];
  uint4 wa[R], wb[R];
  start_rows<R>(p, n0, lane, w, wa, wb);
  pdl_wait();
  if (n0 >= p.N) return;
  dot_rows<M, R, false, ADD>(p, n0, lane, w, wa, wb, nullptr);
  pdl_trigger();  // late: the next kernel's CTAs take SM slots only as this one's CTAs finish
}

// Fused input (M == 1): persistent CTAs (one wave) build the input row in shared memory once, then walk the
// row blocks, so the prologue is paid once per CTA rather than once per 8R rows.
template <GemvInput IN, bool ADD>
__global__ void __launch_bounds__(kGemvWarps * 32) gemv_fused_kernel(GemvParams p) {
  extern __shared__ uint4 xs[];  // the input row, K / 8 vectors
  constexpr int R = 2;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t blocks = (p.N + kGemvWarps * R - 1) / (kGemvWarps * R);
  int64_t block = blockIdx.x;
  int64_t n0 = (block * kGemvWarps + warp) * R;
  const uint4* w[R];
  uint4 wa[R], wb[R];
  start_rows<R>(p, n0, lane, w, wa, wb);
  pdl_wait();
  build_input<IN>(p, xs);
  __syncthreads();
  while (n0 < p.N) {
    dot_rows<1, R, true, ADD>(p, n0, lane, w, wa, wb, xs);
    block += gridDim.x;
    if (block >= blocks) break;
    n0 = (block * kGemvWarps + warp) * R;
    start_rows<R>(p, n0, lane, w, wa, wb);
  }
  pdl_trigger();
}

template <int M, GemvInput IN, bool ADD>
cudaError_t launch(const GemvParams& p, cudaStream_t stream) {
  constexpr int R = M <= 2 ? 2 : 4;
  const int64_t blocks = (p.N + kGemvWarps * R - 1) / (kGemvWarps * R);
  if constexpr (IN == GemvInput::plain) {
    return launch_pdl(gemv_kernel<M, R, ADD>, dim3(unsigned(blocks)), dim3(kGemvWarps * 32), 0, stream, p);
  } else {
    auto kernel = gemv_fused_kernel<IN, ADD>;
    // Fused input: one persistent wave, the input row in dynamic shared memory.
    const size_t smem = size_t(p.K) * 2;
    // Cached per instantiation for the current device (the engine drives one GPU per process).
    static int resident = 0;  // CTAs of this instantiation per SM at its largest shared memory so far
    static size_t resident_smem = 0;
    if (smem > resident_smem) {
      if (smem > 48 * 1024) {
        const cudaError_t e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem));
        if (e != cudaSuccess) return e;
      }
      const cudaError_t e = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&resident, kernel, kGemvWarps * 32, smem);
      if (e != cudaSuccess) return e;
      resident_smem = smem;
    }
    static const int sms = [] {
      int dev = 0, n = 0;
      cudaGetDevice(&dev);
      cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, dev);
      return n;
    }();
    const int64_t wave = int64_t(std::max(resident, 1)) * std::max(sms, 1);
    return launch_pdl(kernel, dim3(unsigned(std::min(blocks, wave))), dim3(kGemvWarps * 32), smem, stream, p);
  }
}

template <int M>
cudaError_t launch_plain(const GemvParams& p, cudaStream_t stream) {
  return p.y_res ? launch<M, GemvInput::plain, true>(p, stream) : launch<M, GemvInput::plain, false>(p, stream);
}

}  // namespace

cudaError_t gemv(const GemvParams& p, cudaStream_t stream) {
  auto aligned = [](const void* ptr) { return ptr && reinterpret_cast<uintptr_t>(ptr) % 16 == 0; };
  if (p.K % 8 != 0 || p.ldw % 8 != 0 || p.N <= 0 || !aligned(p.w)) return cudaErrorInvalidValue;
  if ((p.input != GemvInput::plain || p.y_res) && p.M != 1) return cudaErrorInvalidValue;
  // Each input checks only what it reads (x's row stride matters only with several rows).
  switch (p.input) {
    case GemvInput::rms_norm:
      if (!aligned(p.x_res) || !aligned(p.norm_w)) return cudaErrorInvalidValue;
      return p.y_res ? launch<1, GemvInput::rms_norm, true>(p, stream) : launch<1, GemvInput::rms_norm, false>(p, stream);
    case GemvInput::swiglu:
      if (!aligned(p.x)) return cudaErrorInvalidValue;
      return p.y_res ? launch<1, GemvInput::swiglu, true>(p, stream) : launch<1, GemvInput::swiglu, false>(p, stream);
    case GemvInput::plain:
      if (!aligned(p.x) || (p.M > 1 && p.ldx % 8 != 0)) return cudaErrorInvalidValue;
      break;
  }
  switch (p.M) {
    case 1: return launch_plain<1>(p, stream);
    case 2: return launch<2, GemvInput::plain, false>(p, stream);
    case 3: return launch<3, GemvInput::plain, false>(p, stream);
    case 4: return launch<4, GemvInput::plain, false>(p, stream);
    case 5: return launch<5, GemvInput::plain, false>(p, stream);
    case 6: return launch<6, GemvInput::plain, false>(p, stream);
    case 7: return launch<7, GemvInput::plain, false>(p, stream);
    case 8: return launch<8, GemvInput::plain, false>(p, stream);
    default: return cudaErrorInvalidValue;
  }
}

}  // namespace hb::cuda
