#pragma once
// Next-token sampling on one row of logits (no LibTorch): greedy at temperature 0, otherwise temperature,
// then top-k, min-p and top-p filters, then a draw from a per-request seeded generator. Also reports the
// chosen token's log-probability and the top-k alternatives (raw model distribution: before bans,
// temperature and filters).
#include <cstdint>
#include <optional>
#include <random>
#include <utility>
#include <vector>

namespace hb::models {

struct SamplerConfig {
  double temperature = 0.0;  // 0: greedy
  double top_p = 1.0;        // (0, 1]
  int top_k = -1;            // <= 0: off
  double min_p = 0.0;        // [0, 1)
  uint64_t seed = 0;
  int top_logprobs = 0;      // alternatives to report
};

// Throws Error{usage} naming the bad value (negative temperature, top_p outside (0,1], ...).
void validate(const SamplerConfig& c);

struct SampledToken {
  int32_t id = -1;
  float logprob = 0.f;
  std::vector<std::pair<int32_t, float>> top;  // (id, logprob), best first
};

// The k most likely ids of the raw distribution (log-softmax of `logits`), best first: what Sampler reports
// as top_logprobs (the GPU engine computes it on a copied row with this too).
std::vector<std::pair<int32_t, float>> top_logprobs(const std::vector<float>& logits, int k);
// log_softmax(logits)[id] (-inf for an id outside the row).
float token_logprob(const std::vector<float>& logits, int32_t id);

class Sampler {
 public:
  explicit Sampler(const SamplerConfig& c);
  // `banned` ids get probability 0 (EOS before min_tokens) in the draw; the reported logprob and top list
  // stay those of the raw logits.
  SampledToken sample(const std::vector<float>& logits, const std::vector<int32_t>& banned = {});

 private:
  SamplerConfig c_;
  std::mt19937_64 rng_;
};

}  // namespace hb::models
