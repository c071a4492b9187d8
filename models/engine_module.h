#pragma once
// The native engine's LibTorch half, loaded only when a command needs it.
//
// Everything that needs LibTorch (the model, its weights, the CPU and CUDA executors, logits for KL sweeps,
// `bench engine`) lives in libhybench_engine.so, built next to the hybench executable. hybench itself links
// no LibTorch: loading it costs ~0.7 s before main() even for `hybench score` or `report`, so the CLI opens
// the module with dlopen the first time a native model is used. Test programs that link hb_engine get the
// same implementation in-process and never open the file.
//
// No LibTorch in this header: only the engine's own torch-free types cross the boundary, and both sides are
// built together from one tree (the handshake below refuses a module from another build).
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "models/model.h"
#include "models/sequence_logits.h"
#include "models/step_executor.h"

namespace hb::models {

namespace gpu {
struct EngineBenchOptions;
}

class EngineModule {
 public:
  virtual ~EngineModule() = default;

  // An executor for "preset:NAME" or a checkpoint directory on options.device: "cpu", "cuda", or "auto"
  // (cuda when this build has the CUDA engine and a device is visible). max_sequences caps CUDA slots.
  virtual std::unique_ptr<StepExecutor> make_executor(const std::string& spec, const ModelOptions& options,
                                                      int max_sequences) const = 0;
  // Next-token logits of whole sequences (layer-importance KL sweeps): see SequenceLogits::load.
  virtual std::unique_ptr<SequenceLogits> load_sequence_logits(const std::string& spec,
                                                               const ModelOptions& options) const = 0;
  // `hybench bench engine` (CUDA builds); throws Error{usage} saying what is missing elsewhere.
  virtual nlohmann::json run_engine_bench(const gpu::EngineBenchOptions& options, std::ostream& log) const = 0;
  virtual std::string format_engine_bench(const nlohmann::json& result) const = 0;
  // The module keeps its own copy of the console: the caller's log level is passed on at load.
  virtual void set_log_level(int level) const = 0;
};

// The module, loaded on first use (thread-safe). Looks, in order, at an implementation linked into this
// program, $HYBENCH_ENGINE_MODULE, libhybench_engine.so beside the executable, and ../lib/hybench/ from it.
// Throws Error{config} naming the paths tried and what to do when none loads.
const EngineModule& engine_module();

// Whether this program can reach an engine module at all (without loading it when it is not linked in).
bool engine_module_available();

// Error{usage}, with a did-you-mean, unless device is cpu, cuda or auto (checked before the module loads).
void check_device_name(const std::string& device);

// The handshake: both sides compute this from their own compilation of the shared types; a mismatch means
// the module comes from another build. Bump kEngineModuleAbi when the interface above changes.
constexpr int kEngineModuleAbi = 1;
std::string engine_module_abi_stamp();

}  // namespace hb::models

// The module's one exported symbol: returns the module, or null when `host_stamp` differs from its own stamp
// (then it writes its stamp to `module_stamp`, up to `cap` bytes including the terminator).
extern "C" const hb::models::EngineModule* hb_engine_module_v1(const char* host_stamp, char* module_stamp, unsigned cap);
