#pragma once
// Programmatic dependent launch (Hopper, issue #14). The decode step is a chain of ~10 kernels per layer, most
// of them a few microseconds long; launched plainly, each one starts only once the previous one has drained,
// so every GEMV pays its ramp-up (the first weight loads' latency) and every small kernel its launch latency.
// Launched with PDL, a kernel's CTAs are scheduled as soon as every CTA of the previous kernel has signalled
// (pdl_trigger) or exited, run their independent prologue (a GEMV issues its first weight loads) and block in
// pdl_wait() until the previous kernel has completed and its writes are visible. The small kernels signal at
// their start; the GEMVs signal after their main loop, so that waiting CTAs of the next kernel do not take
// SM slots from a GEMV that still streams (signalling at the start made the one-row step 3-6 % slower).
//
// The rule every kernel launched through launch_pdl follows: pdl_wait() before its first read of anything an
// earlier kernel of the stream writes and before its first global write (a write could race a reader that
// is still running). Only constant data (weights) may be touched before it. Transitivity holds: a kernel
// completes only after its own wait, so waiting for the previous kernel waits for all earlier ones.
// Captured into CUDA graphs as programmatic edges. Off by default (hb_cuda.h says why); launched plainly,
// pdl_wait / pdl_trigger are no-ops.
#include <cuda_runtime.h>

#include <utility>

#include "kernels/cuda/hb_cuda.h"

namespace hb::cuda {

__device__ __forceinline__ void pdl_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

__device__ __forceinline__ void pdl_trigger() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

template <typename... KernelArgs, typename... Args>
cudaError_t launch_pdl(void (*kernel)(KernelArgs...), dim3 grid, dim3 block, size_t smem, cudaStream_t stream,
                       Args&&... args) {
  cudaLaunchConfig_t cfg{};
  cfg.gridDim = grid;
  cfg.blockDim = block;
  cfg.dynamicSmemBytes = smem;
  cfg.stream = stream;
  cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attr[0].val.programmaticStreamSerializationAllowed = programmatic_launch() ? 1 : 0;
  cfg.attrs = attr;
  cfg.numAttrs = 1;
  return cudaLaunchKernelEx(&cfg, kernel, std::forward<Args>(args)...);
}

}  // namespace hb::cuda
