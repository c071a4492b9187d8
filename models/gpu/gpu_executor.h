#pragma once
// The CUDA engine behind the engine loop (models/step_executor.h): GpuModel's slots, packed eager prefill and
// CUDA-graph decode steps, with every row sampled on the GPU (per-row temperature / top-k / top-p / min-p /
// seed / banned ids); the host reads back only the sampled ids and their log-probabilities, plus one logits
// row for a request that asks for top_logprobs. No LibTorch in this header.
#include <memory>
#include <string>

#include "models/model.h"
#include "models/step_executor.h"

namespace hb::models::gpu {

// True when a CUDA device is visible to this process.
bool cuda_device_available();

// Loads spec (a checkpoint directory or preset:NAME) on the GPU with slots of options.context tokens; at most
// max_sequences slots are allocated (fewer when fewer fit after options.gpu_reserve_gib).
std::unique_ptr<StepExecutor> make_gpu_executor(const std::string& spec, const ModelOptions& options, int max_sequences);

}  // namespace hb::models::gpu
