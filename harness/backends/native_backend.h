#pragma once
// The native backend: hybench's own engine (models/) in-process, behind the same Backend interface as an
// OpenAI-compatible server. Spec (after "native:"): a Hugging Face checkpoint directory, or preset:NAME.
// LibTorch stays inside native_backend.cpp and models/: this header is safe to include anywhere.
#include <memory>
#include <string>

#include "harness/backends/backend.h"
#include "models/layer_drops.h"

namespace hb {
namespace models {
class Engine;
}

// Spec (after "native:"): PATH_OR_PRESET[,key=value...] with keys device (cpu | cuda | auto, default auto:
// the CUDA engine when this build has it and a GPU is visible), context (tokens per sequence slot on the GPU),
// reserve_gib (GPU memory kept free), slots (cap on GPU sequences), threads (CPU), ssm_state_dtype (CPU),
// drop_mixer / drop_layer (layer indices removed for an experiment: "drop_mixer=12,30", ranges "12-14").
// Values in the spec override these options.
struct NativeOptions {
  std::string device;               // "cpu", "cuda", "auto" ("" = auto)
  int max_in_flight = 64;           // sequences decoding at once (engine max batch)
  std::string model_name;           // display name; default: the preset name or the directory's basename
  long long kv_budget_tokens = 0;   // CPU: KV rows reservable across live sequences; 0: 65536
  int threads = 1;                  // intra-op CPU threads (process-wide); 0: LibTorch default
  std::string ssm_state_dtype = "fp32";
  long long context = 0;            // CUDA: slot size in tokens; 0: the model's context, at most 16384
  double gpu_reserve_gib = 4.0;     // CUDA: GPU memory left free after weights + slots
  int gpu_max_sequences = 0;        // CUDA: slot cap; 0: max_in_flight (fewer if fewer fit)
  models::LayerDrops drops;         // checked against the model's layer count at load
};

// "PATH_OR_PRESET[,key=value...]" (the part after "native:") -> the target and the options (spec values
// override `defaults`). Throws Error{usage} naming a bad or unknown key.
struct NativeSpec {
  std::string target;  // checkpoint directory or preset:NAME
  NativeOptions options;
};
NativeSpec parse_native_spec(const std::string& spec_after_native_colon, NativeOptions defaults);

// Loads the model (throws hb::Error on a bad spec, config, checkpoint or tokenizer) and starts its engine:
// the engine itself (serve, generate) or behind the Backend interface.
std::unique_ptr<models::Engine> make_native_engine(const NativeSpec& spec);
std::unique_ptr<Backend> make_native_backend(const std::string& spec_after_native_colon, const NativeOptions& options);

}  // namespace hb
