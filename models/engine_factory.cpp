// make_engine(spec, ...): picks the executor for ModelOptions::device. Kept apart from engine.cpp so that the
// engine loop (hb_models) does not depend on the CUDA engine, which depends on it; hb_engine links both.
#include "harness/base/error.h"
#include "harness/base/strings.h"
#include "models/engine.h"
#ifdef HYBENCH_HAVE_CUDA
#include "models/gpu/gpu_executor.h"
#endif

namespace hb::models {

std::unique_ptr<Engine> make_engine(const std::string& spec, const EngineOptions& options, const ModelOptions& model_options) {
  std::string device = model_options.device.empty() ? "auto" : model_options.device;
  if (device != "cpu" && device != "cuda" && device != "auto") {
    const std::string hint = did_you_mean(device, {"cpu", "cuda", "auto"});
    throw Error(ErrorCode::usage, "device '" + device + "' is not cpu, cuda or auto" + (hint.empty() ? "" : "; " + hint));
  }
#ifdef HYBENCH_HAVE_CUDA
  if (device == "auto") device = gpu::cuda_device_available() ? "cuda" : "cpu";
  if (device == "cuda") {
    if (!gpu::cuda_device_available()) throw Error(ErrorCode::config, "device=cuda: no CUDA device is visible; use device=cpu");
    return make_engine(gpu::make_gpu_executor(spec, model_options, options.max_batch), options);
  }
#else
  if (device == "cuda") {
    throw Error(ErrorCode::config, "device=cuda: this hybench was built without the CUDA engine (needs nvcc and a CUDA "
                                   "LibTorch, see docs/GPU.md); use device=cpu");
  }
  device = "cpu";
#endif
  ModelOptions cpu = model_options;
  cpu.device = "cpu";
  return make_engine(make_cpu_executor(spec, cpu), options);
}

}  // namespace hb::models
