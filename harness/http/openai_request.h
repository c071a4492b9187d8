#pragma once
// The body of an OpenAI `/v1/chat/completions` or `/v1/completions` request, parsed and checked field by
// field (no engine, no LibTorch: `hybench serve` turns it into engine requests). Every malformed field is a
// BadRequest naming the field, what was expected and what came; fields hybench cannot honour (penalties,
// logit_bias, tools, best_of > n, suffix, ...) are refused rather than ignored. Unknown fields are ignored,
// as OpenAI-compatible servers do.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace hb::http {

// A 400 answer: `param` is the offending field (OpenAI's error.param), empty for the body as a whole.
class BadRequest : public std::runtime_error {
 public:
  BadRequest(std::string param, const std::string& message) : std::runtime_error(message), param_(std::move(param)) {}
  const std::string& param() const { return param_; }

 private:
  std::string param_;
};

struct ChatMessage {
  std::string role;
  std::string content;
};

// One completions prompt: text, or token ids (then `text` is empty and `ids` is not).
struct PromptInput {
  std::string text;
  std::vector<int32_t> ids;
  bool is_tokens() const { return !ids.empty(); }
};

struct OpenAIRequest {
  bool chat = false;
  std::string model;  // "" when absent
  std::vector<ChatMessage> messages;  // chat
  std::vector<PromptInput> prompts;   // completions: one per prompt of a batch
  std::optional<int64_t> max_tokens;  // max_completion_tokens or max_tokens; absent: the server's default
  std::string max_tokens_field = "max_tokens";  // the one the client sent (errors name it)
  double temperature = 1.0;
  double top_p = 1.0;
  int top_k = -1;
  double min_p = 0.0;
  std::optional<uint64_t> seed;
  int n = 1;
  // Chat: logprobs (bool) + top_logprobs; completions: logprobs (int) = top alternatives per token.
  bool logprobs = false;
  int top_logprobs = 0;
  bool echo = false;  // completions: the prompt precedes the completion (with its logprobs when asked)
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  std::vector<std::string> stop;
  std::vector<int32_t> stop_token_ids;
  bool ignore_eos = false;
  int min_tokens = 0;
  std::optional<bool> add_special_tokens;  // absent: the endpoint's default
  bool tokens_as_ids = false;  // vLLM's return_tokens_as_token_ids: logprobs tokens spelled "token_id:N"
};

// POST /tokenize {"prompt": str, "add_special_tokens": bool = true} and /detokenize {"tokens": [ids]}.
struct TokenizeRequest {
  std::string text;
  bool add_special_tokens = true;
  std::vector<int32_t> ids;
};
TokenizeRequest parse_tokenize_request(const std::string& body, bool tokenize);

// Throws BadRequest. `chat` selects the endpoint's schema.
OpenAIRequest parse_openai_request(const std::string& body, bool chat);

// Most choices one request may ask for (n x prompts).
constexpr int kMaxChoices = 128;

}  // namespace hb::http
