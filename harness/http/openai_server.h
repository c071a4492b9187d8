#pragma once
// The OpenAI-compatible routes of `hybench serve` over the native engine (no LibTorch in this header):
//   POST /v1/chat/completions, POST /v1/completions (stream or not; n choices per prompt; prompt batches;
//        logprobs/top_logprobs; completions echo with prompt logprobs, as lm-eval's log-likelihood requests need)
//   GET  /v1/models, /v1/models/{id}, /health
//   POST /tokenize, /detokenize, GET /tokenizer_info (vLLM's; lm-eval's tokenizer_backend=remote uses them)
// A wrong method is 405 with Allow; a malformed request is 400 naming the field; a `model` other than the
// served name is 404 (as vLLM answers). One access-log line per request on stderr (info level).
// HTTP threads only parse and submit; the engine thread answers through the thread-safe ResponseWriter.
#include <atomic>
#include <memory>
#include <string>

#include "harness/http/http_server.h"
#include "models/engine.h"

namespace hb::http {

class AccessLog;  // the access-log line of one request (openai_server.cpp)

class OpenAIServer {
 public:
  OpenAIServer(std::unique_ptr<models::Engine> engine, std::string served_name);
  // The HttpServer handler.
  void handle(const HttpRequest& request, std::shared_ptr<ResponseWriter> writer);

  // Default max_tokens when a request gives none (clamped to the context left after the prompt).
  static constexpr int kDefaultMaxTokens = 256;

 private:
  void completion(const HttpRequest& request, const std::shared_ptr<AccessLog>& writer, bool chat);
  void tokenizer_route(const HttpRequest& request, const std::shared_ptr<AccessLog>& writer, const std::string& path);

  std::unique_ptr<models::Engine> engine_;
  std::string name_;
  std::atomic<uint64_t> next_id_{1};
};

}  // namespace hb::http
