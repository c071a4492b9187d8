#pragma once
// Synthetic prompts of a given length for throughput points. Without the model's tokenizer (every
// openai: backend) the prompt is IN words drawn from a list of common English words that BPE tokenizers
// encode as one token each, so the prompt is IN tokens to within a few percent plus the chat template's
// overhead; the method is recorded with the point and the server-reported prompt_tokens of every
// request is stored, so the real input length is always visible. Each request gets different words
// (seeded by seed and index) so prefix caches cannot short-cut it, except for the optional shared
// prefix, which is the same for every request of the point. The output length is forced with
// ignore_eos + min_tokens + max_tokens = OUT; servers that ignore these are caught by the
// output-length check in the metrics.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/backends/backend.h"
#include "harness/load/load_spec.h"

namespace hb::load {

// Replayed prompts (e.g. a suite's items with the suite's token limit): requests are taken in order,
// cycling when a point needs more than there are.
struct PromptSet {
  std::string name;                          // "suite:math500/default"
  std::vector<GenerationRequest> requests;
  nlohmann::json details = nlohmann::json::object();
};

struct WorkloadOptions {
  Shape shape;
  std::shared_ptr<const PromptSet> replay;   // when set, prompts come from here instead of random words
  int shared_prefix_tokens = 0;  // the first tokens of the prompt are the same for every request
  bool force_output_length = true;
  // Random prompts go to /v1/completions by default, so no chat template adds tokens to IN (a chat
  // template can add hundreds: Apriel's system block is ~420 byte-level tokens on the tiny presets);
  // chat = true sends them as one user message to /v1/chat/completions instead.
  bool chat = false;
  // > 0: prompts are IN random token ids drawn from [0, vocab_size): exact prompt lengths, for backends
  // that take token ids (the native engine; vLLM's /v1/completions). 0: common words (approximate).
  int vocab_size = 0;
  uint64_t seed = 0;
};

class Workload {
 public:
  explicit Workload(WorkloadOptions options);
  GenerationRequest request(int index) const;
  // Stored with the point: shape, seed, prefix, how prompt lengths were made.
  nlohmann::json describe() const;
  const char* prompt_method() const {
    return opt_.vocab_size > 0 ? "random-token-ids-exact" : "common-words-approx-1-token-each";
  }

 private:
  std::string words(uint64_t seed, int count) const;
  WorkloadOptions opt_;
  std::string prefix_;
};

}  // namespace hb::load
