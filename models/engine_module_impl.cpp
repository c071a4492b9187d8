// The LibTorch side of models/engine_module.h: built into libhybench_engine.so (the only symbol it exports
// is hb_engine_module_v1), and linked directly into test programs through hb_engine.
#include <algorithm>

#include "harness/base/console.h"
#include "harness/base/error.h"
#include "models/engine_module.h"
#include "models/gpu/engine_bench.h"
#ifdef HYBENCH_HAVE_CUDA
#include "models/gpu/gpu_executor.h"
#endif

namespace hb::models {
namespace {

class LibTorchEngineModule final : public EngineModule {
 public:
  std::unique_ptr<StepExecutor> make_executor(const std::string& spec, const ModelOptions& options,
                                              int max_sequences) const override {
    const std::string device = resolve_engine_device(options.device);  // "cuda" only in CUDA builds
#ifdef HYBENCH_HAVE_CUDA
    if (device == "cuda") return gpu::make_gpu_executor(spec, options, max_sequences);
#endif
    ModelOptions cpu = options;
    cpu.device = "cpu";
    return make_cpu_executor(spec, cpu);
  }

  std::unique_ptr<SequenceLogits> load_sequence_logits(const std::string& spec, const ModelOptions& options) const override {
    return load_sequence_logits_on_device(spec, options);
  }

  nlohmann::json run_engine_bench(const gpu::EngineBenchOptions& options, std::ostream& log) const override {
#ifdef HYBENCH_HAVE_CUDA
    return gpu::run_engine_bench(options, log);
#else
    (void)options;
    (void)log;
    throw Error(ErrorCode::usage, "bench engine needs the CUDA build of hybench (nvcc + a CUDA LibTorch; see docs/GPU.md) "
                                  "and a CUDA device");
#endif
  }

  std::string format_engine_bench(const nlohmann::json& result) const override {
#ifdef HYBENCH_HAVE_CUDA
    return gpu::format_engine_bench(result);
#else
    (void)result;
    return "";
#endif
  }

  void set_log_level(int level) const override { Console::get().set_level(static_cast<LogLevel>(level)); }
};

}  // namespace

std::string resolve_engine_device(const std::string& requested) {
  std::string device = requested.empty() ? "auto" : requested;
  check_device_name(device);
#ifdef HYBENCH_HAVE_CUDA
  if (device == "auto") device = gpu::cuda_device_available() ? "cuda" : "cpu";
  if (device == "cuda" && !gpu::cuda_device_available())
    throw Error(ErrorCode::config, "device=cuda: no CUDA device is visible; use device=cpu");
#else
  if (device == "cuda") {
    throw Error(ErrorCode::config, "device=cuda: this hybench was built without the CUDA engine (needs nvcc and a CUDA "
                                   "LibTorch, see docs/GPU.md); use device=cpu");
  }
  device = "cpu";
#endif
  return device;
}

}  // namespace hb::models

extern "C" __attribute__((visibility("default"))) const hb::models::EngineModule* hb_engine_module_v1(
    const char* host_stamp, char* module_stamp, unsigned cap) {
  static const hb::models::LibTorchEngineModule module;
  const std::string mine = hb::models::engine_module_abi_stamp();
  if (host_stamp != nullptr && mine == host_stamp) return &module;
  if (module_stamp != nullptr && cap > 0) {
    const size_t n = std::min<size_t>(mine.size(), cap - 1);
    mine.copy(module_stamp, n);
    module_stamp[n] = '\0';
  }
  return nullptr;
}
