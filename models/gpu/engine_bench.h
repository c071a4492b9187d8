#pragma once
// `hybench bench engine` (issue #6): each model side by side on the GPU path (models/gpu/gpu_model.h):
// decode step times at batch x context points over caches filled with random K/V and state, prefill
// throughput, peak memory, the max batch at the shape, the predicted tokens/s of the whole IN:OUT workload
// (decode step time integrated over the context), a real shorter run that checks the prediction, achieved
// HBM bandwidth against the roofline, and every model's ratio to the first. The roofline is the device's
// streaming-read bandwidth measured at the start of the same run (with the copy bandwidth and the bf16 GEMM
// rate, all printed and in the JSON's "ceiling"), never a datasheet constant. Needs a CUDA device.
#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace hb::models::gpu {

struct EngineBenchOptions {
  std::vector<std::string> models;
  int64_t in = 1, out = 16384;
  int batch = 0;                               // 0: the largest batch that fits at IN+OUT
  std::vector<int> batches = {1, 8, 32};       // decode points (the workload batch is added)
  std::vector<int64_t> contexts = {1, 2048, 4096, 8192, 16384};  // clipped to IN+OUT
  int64_t real_out = 2048;                     // generated tokens of the real run (0: skip)
  std::vector<int64_t> prefill_tokens = {2048, 16384};  // one sequence each; the first sets the prediction
  double reserve_gib = 4.0;
  int iters = 20;
  // Decode points (batch, context) of which one extra step runs between cudaProfilerStart and Stop, so that
  // `ncu --profile-from-start off` times that step's kernels only (scripts/gpu_breakdown.py). Batch 0 is the
  // workload batch; a point that is not among the measured ones is not run.
  std::vector<std::pair<int, int64_t>> profile_points;
};

nlohmann::json run_engine_bench(const EngineBenchOptions& options, std::ostream& log);
// The short side-by-side table printed at the end.
std::string format_engine_bench(const nlohmann::json& result);

}  // namespace hb::models::gpu
