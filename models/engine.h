#pragma once
// The native engine loop (no LibTorch in this header). One thread owns the model; requests arrive through
// a queue. Continuous batching: a request is admitted only when its full KV reservation (prompt +
// max_tokens) fits the engine's KV budget; each step runs every decoding sequence (one token) together
// with prefill chunks of newly admitted ones under a token budget, so prefill and decode interleave.
// Every generated token is timestamped. Callbacks run on the engine thread and must not block.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "models/chat_template.h"
#include "models/model.h"
#include "models/sampler.h"
#include "models/step_executor.h"
#include "models/tokenizer.h"

namespace hb::models {

struct EngineOptions {
  int max_batch = 16;                 // sequences decoding at once (capped by the executor's max_sequences)
  int64_t kv_budget_tokens = 65536;   // total KV rows reservable across live sequences (an executor with its
                                      // own capacity, the GPU's slots, replaces it)
  int64_t prefill_chunk_tokens = 0;   // prompt tokens per step (chunked prefill); 0: the executor's choice
};

struct TokenEvent {
  int32_t token = -1;
  std::string text;      // newly complete text (may be empty while UTF-8 or a possible stop string is held back)
  int64_t t_ns = 0;
  float logprob = 0.f;
  std::vector<std::pair<int32_t, float>> top_logprobs;
};

struct EngineResult {
  std::string id;
  std::vector<int32_t> tokens;
  std::string text;
  std::string finish_reason;  // stop | length | cancelled | error
  std::string error;          // set when finish_reason == error
  int64_t prompt_tokens = 0;
  int64_t submit_ns = 0, admit_ns = 0, first_token_ns = 0, end_ns = 0;
  std::vector<int64_t> token_ns;  // one timestamp per generated token
  std::vector<float> logprobs;
  std::vector<std::vector<std::pair<int32_t, float>>> top_logprobs;
  // With EngineRequest::prompt_logprobs >= 0: one entry per prompt token after the first (the first has no
  // context to be scored in), id = the prompt token, its raw logprob and the top alternatives.
  std::vector<SampledToken> prompt_logprobs;
};

struct EngineRequest {
  std::string id;
  std::vector<int32_t> prompt;
  SamplerConfig sampling;
  int max_tokens = 256;  // 0 only with prompt_logprobs >= 0 (score the prompt, generate nothing)
  int min_tokens = 0;
  int prompt_logprobs = -1;  // >= 0: score every prompt token (with that many alternatives, <= 20); needs an
                             // executor that scores prompts (the CPU reference)
  bool ignore_eos = false;
  std::vector<std::string> stop;        // stop strings (not included in the text)
  std::vector<int32_t> stop_token_ids;  // besides EOS
  std::function<void(const TokenEvent&)> on_token;  // optional, streaming
  std::function<void(EngineResult)> on_done;        // called exactly once
  int64_t submit_ns = 0;                            // set by submit() when 0
};

class Engine {
 public:
  Engine(std::unique_ptr<StepExecutor> executor, std::unique_ptr<Tokenizer> tokenizer, ChatFormat chat_format,
         const EngineOptions& options = {});
  ~Engine();  // cancels everything and joins the thread

  // Validates (prompt empty or longer than the context, max_tokens < 1, bad sampling values, a
  // reservation that can never fit: Error{usage}) and queues. Returns a handle for cancel().
  uint64_t submit(EngineRequest request);
  // The checks of submit() without queueing (a server checks every choice of a request before it starts any);
  // returns max_tokens as submit() would clamp it to the context.
  int check(const EngineRequest& request) const;
  void cancel(uint64_t handle);
  void cancel_all();

  // Prompt ids for a chat (the checkpoint's template, exactly one BOS) or a raw completion prompt.
  std::vector<int32_t> encode_chat(const std::vector<ChatTurn>& turns) const;
  // A raw prompt: the text's ids (special-token text is not parsed) wrapped, when add_special_tokens, in what
  // the tokenizer's post-processor adds (a BOS for most; nothing for GPT-2-style tokenizers), as
  // transformers' tokenizer(text) does.
  std::vector<int32_t> encode_prompt(const std::string& text, bool add_special_tokens = true) const;

  const ModelConfig& config() const;
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  ChatFormat chat_format() const { return chat_format_; }
  std::vector<int32_t> eos_ids() const { return eos_ids_; }
  int64_t max_context() const;
  std::string model_source() const;
  const StepExecutor& executor() const { return *executor_; }
  const EngineOptions& options() const { return options_; }

 private:
  struct Active;
  void loop();
  void step(std::vector<std::unique_ptr<Active>>& active);
  void finish(Active& a, const std::string& reason, const std::string& error = "");

  std::unique_ptr<StepExecutor> executor_;
  std::unique_ptr<Tokenizer> tokenizer_;
  ChatFormat chat_format_;
  EngineOptions options_;
  std::vector<int32_t> eos_ids_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<uint64_t, EngineRequest>> queue_;
  std::set<uint64_t> cancelled_;
  bool cancel_all_ = false;
  bool stop_ = false;
  uint64_t next_handle_ = 1;
  std::thread thread_;
};

// Starts an engine over an executor with its tokenizer: the checkpoint directory's tokenizer.json, or a
// byte-level one for presets.
std::unique_ptr<Engine> make_engine(std::unique_ptr<StepExecutor> executor, const EngineOptions& options = {});
// Loads "preset:NAME" or a checkpoint directory on model_options.device (models/engine_factory.cpp: "cpu",
// "cuda", or "auto" = cuda when this build has the CUDA engine and a device is visible) and starts an engine.
std::unique_ptr<Engine> make_engine(const std::string& spec, const EngineOptions& options = {},
                                    const ModelOptions& model_options = {});

}  // namespace hb::models
