#pragma once
// The OpenAI-compatible client backend: any server that speaks /v1/chat/completions (vLLM, SGLang, TGI,
// llama.cpp, `hybench serve`). All requests share ONE event-loop thread that drives libcurl's multi
// interface with epoll, so thousands of streams cost one thread; SSE is decoded incrementally and every
// chunk is time-stamped (hb::monotonic_ns) as it is read.
//
// Behaviour:
//  - At most max_in_flight requests are on the wire; more wait in a FIFO queue. submit_ns stays the
//    submission time; send_ns is when libcurl started writing the last attempt's request (connection
//    ready), so send_ns - submit_ns holds the client queue time, connection set-up and retry backoff.
//  - Replicas: with several base_urls each attempt goes to the endpoint with the fewest outstanding
//    requests (ties rotate); GenerationResult::endpoint names it; describe().details["endpoints"] counts
//    requests and errors per endpoint.
//  - Retries with exponential backoff and full jitter (uniform in [0, min(backoff_max_s,
//    backoff_base_s * 2^(attempt-1))]) on connection errors, HTTP 429 (Retry-After in seconds is
//    honoured instead of the jitter, capped at 300 s) and 5xx, up to max_attempts attempts. Never on
//    400/401/403/404, on a stream that already started, or on a protocol error.
//  - Timeouts: connect_timeout_s for the TCP connect; idle_timeout_s without any byte (before the first
//    byte or mid-stream) aborts the attempt with error kind "timeout" (a watchdog on the loop).
//  - Error kinds (ErrorInfo::kind): connect, timeout, http_<status> (http_401, http_404, http_429,
//    http_500, ...), protocol (invalid JSON in an event, named in the message), server_error (an
//    {"error": ...} event mid-stream), truncated (the stream ended without finish_reason and without
//    [DONE]; partial text kept), cancelled. A missing [DONE] after a finish_reason is not an error.
//  - The API key is read once from the environment variable api_key_env and sent as a Bearer token; it
//    is never logged, never put in describe(), and scrubbed from error messages.
//  - Callbacks run on the loop thread and must not block it for long; an exception a callback throws is
//    logged and swallowed. Nothing throws across libcurl.
#include <memory>
#include <string>
#include <vector>

#include "harness/backends/backend.h"

namespace hb::openai {

struct OpenAiOptions {
  std::vector<std::string> base_urls;  // each with its /v1, e.g. http://127.0.0.1:8000/v1
  std::string model_name;              // sent as "model"
  std::string api_key_env = "OPENAI_API_KEY";
  int max_in_flight = 64;
  double connect_timeout_s = 10;
  double idle_timeout_s = 120;
  int max_attempts = 4;
  double backoff_base_s = 0.5;
  double backoff_max_s = 20;
  bool stream = true;  // false: non-streaming requests (one JSON response)
};

// Checks one base URL: http(s)://, a host, and a port in 1..65535 when a ':' follows the host (an empty
// port, "http://h:/v1", would otherwise silently mean port 80). Throws hb::Error usage naming the URL
// (credentials redacted).
void check_base_url(const std::string& url);

// Validates the options (hb::Error usage: empty base_urls, a URL that is not http(s), max_in_flight < 1,
// ...) and starts the event-loop thread.
std::unique_ptr<Backend> make_openai_backend(const OpenAiOptions& options);

}  // namespace hb::openai
