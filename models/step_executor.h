#pragma once
// What the engine loop (models/engine.h) drives: a model plus its sampling, one step at a time. The loop owns
// queueing, admission, detokenisation and stop strings; an executor owns the weights, the cache of every live
// sequence and the sampling of next tokens. Two implementations: the CPU reference (models/cpu_executor.h)
// and the CUDA engine (models/gpu/gpu_executor.h: CUDA-graph decode steps, sampling on the GPU). No LibTorch
// in this header.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/model.h"
#include "models/model_config.h"
#include "models/sampler.h"

namespace hb::models {

// One sequence's part of a step: a prefill chunk (several tokens, or the whole prompt) or one decode token
// (the token sampled by the previous step).
struct StepRow {
  int seq = -1;
  std::vector<int32_t> tokens;
  bool sample = true;               // false for a prefill chunk that does not end the prompt
  std::vector<int32_t> banned;      // ids that may not be sampled now (EOS before min_tokens)
  // Prompt scoring (completions `echo` + `logprobs`): when >= 0, step() also reports, for every position of
  // this row, the raw logprob (and this many alternatives) of the token that follows it: tokens[i+1], and
  // after the last position `next_token` (the next chunk's first token) when the row does not sample.
  int score_top_k = -1;
  int32_t next_token = -1;
};

class StepExecutor {
 public:
  virtual ~StepExecutor() = default;

  virtual const ModelConfig& config() const = 0;
  virtual std::string source_dir() const = 0;  // checkpoint directory ("" for presets)
  // Longest sequence (prompt + generated) one sequence may reach.
  virtual int64_t max_context() const = 0;
  // Sequences that can be live at once (0: no limit but the engine's KV budget).
  virtual int max_sequences() const = 0;
  // KV tokens reservable across live sequences (0: no limit of the executor's own).
  virtual int64_t kv_capacity_tokens() const = 0;
  // Prompt tokens worth running in one step (the engine's chunked-prefill budget).
  virtual int64_t prefill_chunk_tokens() const = 0;

  // A new sequence that will hold at most reserve_tokens tokens and sample with `sampling`. Throws on no room.
  virtual int create_sequence(int64_t reserve_tokens, const SamplerConfig& sampling) = 0;
  virtual void release_sequence(int seq) = 0;

  // Runs the rows together; returns, in row order, for each row its scores (rows with score_top_k >= 0: one
  // entry per scored position, id = the scored token) and then its sampled token (rows with sample == true).
  virtual std::vector<SampledToken> step(const std::vector<StepRow>& rows) = 0;
  // Whether step() honours StepRow::score_top_k (it needs every position's logits; the CUDA engine keeps
  // only each row's last).
  virtual bool scores_prompts() const { return false; }

  // For describe(): device, kernels, dtypes, memory plan.
  virtual nlohmann::json details() const = 0;
};

// The CPU reference engine (models/model.h): fp32, one host Sampler per sequence.
std::unique_ptr<StepExecutor> make_cpu_executor(const std::string& spec, const ModelOptions& options);

}  // namespace hb::models
