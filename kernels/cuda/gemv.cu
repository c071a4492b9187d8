// Weight-streaming GEMM for the decode step's few rows (issue #14): y[M, N] = x[M, K] . W[N, K]^T in bf16
// with fp32 accumulation, M <= 8. cuBLAS streams 1-8-row GEMMs well below the HBM ceiling (its tiles are
// built for large M), and at batch 1 these GEMMs are ~95% of the step's bytes.
// Floor: the weight bytes N*K*2 (x and y are tiny and stay in L1/L2): 6144 x 5120 (q|k|v) = 62.9 MB ->
// 14.6 us at 4.3 TB/s; the teacher's whole step ~28.6 GB -> ~6.7 ms.
// Design: one warp owns R consecutive output rows; its lanes walk K in 16-byte vectors (8 bf16), R weight
// loads (streaming, evict-first) and M activation loads (cached: every warp reads the same x) per step, two
// steps unrolled so 2R weight loads are in flight per lane; M x R fp32 accumulators reduced by shuffles at
// the end. The activation loads per weight load are M/R, so L1 is not the limit at M = 8. Launched with PDL
// (pdl.cuh): the first weight loads overlap the previous kernel's tail.
#include <cuda_bf16.h>

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

template <int M, int R>
__global__ void __launch_bounds__(kGemvWarps * 32) gemv_kernel(GemvParams p) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t n0 = ((int64_t)blockIdx.x * kGemvWarps + warp) * R;
  if (n0 >= p.N) {  // still part of the chain: wait like every warp before the kernel may count as done
    pdl_trigger();
    pdl_wait();
    return;
  }
  const int k8 = p.K / 8;
  const uint4* w[R];
#pragma unroll
  for (int r = 0; r < R; ++r) {
    const int64_t n = n0 + r < p.N ? n0 + r : p.N - 1;  // rows past N re-read the last row; never written
    w[r] = reinterpret_cast<const uint4*>(static_cast<const __nv_bfloat16*>(p.w) + n * p.ldw);
  }
  const uint4* x[M];
#pragma unroll
  for (int m = 0; m < M; ++m) x[m] = reinterpret_cast<const uint4*>(static_cast<const __nv_bfloat16*>(p.x) + m * p.ldx);
  float acc[M][R];
#pragma unroll
  for (int m = 0; m < M; ++m)
#pragma unroll
    for (int r = 0; r < R; ++r) acc[m][r] = 0.f;
  // Software-pipelined: the next step's 2R weight vectors are in flight while this step's are consumed.
  // The first step's loads are issued before pdl_wait (weights are constant), so they overlap the previous
  // kernel's tail.
  pdl_trigger();
  int k = lane;
  uint4 wa[R], wb[R];
  if (k + 32 < k8) {
#pragma unroll
    for (int r = 0; r < R; ++r) {
      wa[r] = __ldcs(w[r] + k);
      wb[r] = __ldcs(w[r] + k + 32);
    }
  }
  pdl_wait();
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
      const uint4 xa = __ldg(x[m] + k), xb = __ldg(x[m] + k + 32);
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
      const uint4 xa = __ldg(x[m] + k);
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
#pragma unroll
      for (int m = 0; m < M; ++m) y[m * p.ldy + n0 + r] = __float2bfloat16(acc[m][r]);
    }
  }
}

template <int M>
cudaError_t launch(const GemvParams& p, cudaStream_t stream) {
  constexpr int R = M <= 2 ? 2 : 4;
  const int64_t warps = (p.N + R - 1) / R;
  const dim3 grid(unsigned((warps + kGemvWarps - 1) / kGemvWarps));
  return launch_pdl(gemv_kernel<M, R>, grid, dim3(kGemvWarps * 32), 0, stream, p);
}

}  // namespace

cudaError_t gemv(const GemvParams& p, cudaStream_t stream) {
  if (p.K % 8 != 0 || p.ldx % 8 != 0 || p.ldw % 8 != 0 || p.N <= 0) return cudaErrorInvalidValue;
  if (reinterpret_cast<uintptr_t>(p.x) % 16 != 0 || reinterpret_cast<uintptr_t>(p.w) % 16 != 0) return cudaErrorInvalidValue;
  switch (p.M) {
    case 1: return launch<1>(p, stream);
    case 2: return launch<2>(p, stream);
    case 3: return launch<3>(p, stream);
    case 4: return launch<4>(p, stream);
    case 5: return launch<5>(p, stream);
    case 6: return launch<6>(p, stream);
    case 7: return launch<7>(p, stream);
    case 8: return launch<8>(p, stream);
    default: return cudaErrorInvalidValue;
  }
}

}  // namespace hb::cuda
