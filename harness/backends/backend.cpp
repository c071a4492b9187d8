#include "harness/backends/backend.h"

namespace hb {

nlohmann::json SamplingParams::to_json() const {
  nlohmann::json j{{"temperature", temperature}, {"top_p", top_p}, {"max_tokens", max_tokens}};
  if (top_k > 0) j["top_k"] = top_k;
  if (min_p > 0) j["min_p"] = min_p;
  if (seed) j["seed"] = *seed;
  if (!stop.empty()) j["stop"] = stop;
  if (ignore_eos) j["ignore_eos"] = true;
  if (min_tokens) j["min_tokens"] = *min_tokens;
  if (top_logprobs > 0) j["top_logprobs"] = top_logprobs;
  return j;
}

}  // namespace hb
