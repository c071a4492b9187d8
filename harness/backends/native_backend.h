#pragma once
// The native backend: hybench's own engine (models/) in-process, behind the same Backend interface as an
// OpenAI-compatible server. Spec (after "native:"): a Hugging Face checkpoint directory, or preset:NAME.
// LibTorch stays inside native_backend.cpp and models/: this header is safe to include anywhere.
#include <memory>
#include <string>

#include "harness/backends/backend.h"

namespace hb {

struct NativeOptions {
  std::string device;               // "cpu" (default and only one before the CUDA kernels), "cuda"
  int max_in_flight = 64;           // sequences decoding at once (engine max batch)
  std::string model_name;           // display name; default: the preset name or the directory's basename
  long long kv_budget_tokens = 0;   // KV rows reservable across live sequences; 0: 65536
  int threads = 1;                  // intra-op CPU threads (process-wide); 0: LibTorch default
  std::string ssm_state_dtype = "fp32";
};

// Loads the model (throws hb::Error on a bad spec, config, checkpoint or tokenizer) and starts its engine.
std::unique_ptr<Backend> make_native_backend(const std::string& spec_after_native_colon, const NativeOptions& options);

}  // namespace hb
