#pragma once
// The one interface every model backend implements: the OpenAI-compatible client, the native engine,
// launched servers and replica sets. A request is submitted asynchronously; its result (text, usage,
// raw timestamps, or an error as data) is handed to a callback on the backend's own thread. Exceptions
// never cross that boundary.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/base/error.h"

namespace hb {

struct ChatMessage {
  std::string role;  // "system", "user", "assistant"
  std::string content;
};

struct SamplingParams {
  double temperature = 0.0;
  double top_p = 1.0;
  int top_k = -1;        // -1: off
  double min_p = 0.0;    // 0: off
  int max_tokens = 1024;
  std::optional<uint64_t> seed;
  std::vector<std::string> stop;
  bool ignore_eos = false;            // throughput runs: force the output length
  std::optional<int> min_tokens;      // throughput runs
  int top_logprobs = 0;               // 0: none
  nlohmann::json to_json() const;
};

struct GenerationRequest {
  std::string id;                       // caller's id, echoed in logs
  std::vector<ChatMessage> messages;    // chat mode (default)
  std::optional<std::string> prompt;    // raw completion mode (/v1/completions) when set
  // Raw completion from these token ids when non-empty (exact prompt lengths for throughput runs; servers
  // such as vLLM accept a list of ids as "prompt"). Takes precedence over `prompt` and `messages`.
  std::vector<int32_t> prompt_token_ids;
  SamplingParams sampling;
  bool stream = true;
};

// One streamed chunk as it arrived: when, how many tokens it carried, and on which channel.
struct ChunkTiming {
  int64_t t_ns = 0;
  int32_t tokens = 0;
  bool reasoning = false;
};

struct TokenUsage {
  int64_t prompt_tokens = -1;       // -1: not reported
  int64_t completion_tokens = -1;
  int64_t reasoning_tokens = -1;
};

// One HTTP request of a GenerationRequest (a backend may send several: retries, and libcurl's own re-send
// on a reused connection the server had closed). Monotonic times like GenerationResult's.
struct AttemptInfo {
  std::string kind;            // "ok", or the error kind that ended it ("truncated", "http_429", "resent", ...)
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  int64_t http_status = 0;     // 0: no status line received
  int64_t bytes_received = 0;  // header + body bytes of this attempt
  bool request_sent = false;   // the request went out on the wire (false: connect error, never sent)
  std::string endpoint;
  std::string message;         // why it failed ("" when ok)
};

struct GenerationResult {
  std::string content;               // the answer channel
  std::string reasoning;             // reasoning_content deltas, kept apart
  std::string finish_reason;         // "stop", "length", ... ("" when unknown)
  TokenUsage usage;                  // as reported by the server
  int64_t client_completion_tokens = -1;  // as counted by the client when a tokenizer is known
  // Monotonic timestamps (hb::monotonic_ns); 0 when the event did not happen.
  int64_t submit_ns = 0;       // handed to the backend
  int64_t send_ns = 0;         // last attempt started on the wire
  int64_t first_byte_ns = 0;   // first response byte of the last attempt
  int64_t first_token_ns = 0;  // first generated token of any channel (reasoning included)
  int64_t first_content_ns = 0;  // first answer token
  int64_t end_ns = 0;
  int64_t connect_ns = 0;      // connection set-up of the last attempt (a duration; 0 when reused or unknown)
  std::vector<ChunkTiming> chunks;
  int attempts = 0;                   // HTTP requests sent (== attempt_log.size() for the openai backend)
  std::vector<AttemptInfo> attempt_log;  // every attempt, the last one last (empty for in-process engines)
  std::string endpoint;               // which replica served it
  std::optional<ErrorInfo> error;     // set when the request failed; partial text may remain
  bool ok() const { return !error.has_value(); }
};

struct BackendInfo {
  std::string kind;         // "openai", "native", "launch", ...
  std::string spec;         // the spec as given, secrets removed
  std::string model_name;   // what is sent as "model" / the display name
  nlohmann::json details;   // engine version, dtype, device, layout, endpoints, ...
};

using ResultCallback = std::function<void(GenerationResult)>;

class Backend {
 public:
  virtual ~Backend() = default;
  virtual BackendInfo describe() const = 0;
  // Submits a request; returns at once. `done` is called exactly once, from the backend's thread.
  virtual void submit(GenerationRequest request, ResultCallback done) = 0;
  // Cancels everything in flight; each pending callback still fires, with error kind "cancelled".
  virtual void cancel_all() = 0;
};

}  // namespace hb
