#pragma once
// An in-process, scripted OpenAI-compatible server on 127.0.0.1 (ephemeral port) for client, runner and
// resume tests. Every request is logged (method, path, headers, body JSON, arrival time) so a test can
// assert exactly which requests were made. Answers come from a script: a callback that returns a Reply
// for each request (index = arrival order, from 0). Without a script it answers every chat/completions
// request with a short streamed answer ending in "#### 42".
//
//   LoopbackServer server;                                   // listening at once
//   server.script([](const LoggedRequest& r, int i) {
//     return i < 2 ? Reply::error(500, "busy") : Reply::chat({"Hello", " world"});
//   });
//   opts.base_urls = {server.base_url()};                    // "http://127.0.0.1:PORT/v1"
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/http/http_server.h"
#include "tests/support/fault_plan.h"

namespace hb::testing {

using std::chrono::milliseconds;

struct Reply {
  int status = 200;
  http::HeaderList headers;              // e.g. {"Retry-After", "1"}
  // Non-streaming answer (stream == false): the body sent as is with content_type.
  bool stream = true;
  std::string body;
  std::string content_type = "application/json";
  // Streaming answer: each string is one event's data, sent as "data: <s>\n\n".
  std::vector<std::string> events;
  bool send_done = true;                 // append "data: [DONE]\n\n"
  std::vector<std::string> raw_before;   // raw bytes written before the events (comments, odd framing)
  std::string raw_after;                 // raw bytes written after the events and [DONE] (odd endings)
  milliseconds first_byte_delay{0};      // before the status line
  milliseconds first_event_delay{0};     // after the headers, before the first event
  milliseconds event_delay{0};           // between events
  int cut_after = -1;                    // abort the connection after this many events (no [DONE])
  int stall_after = -1;                  // stop sending (but keep the connection open) after this many events
  bool close_without_response = false;   // accept the request, then close the socket without answering

  // A chat stream: role chunk, one chunk per piece of `content` (and of `reasoning` before it),
  // a finish chunk, the usage chunk (when usage), [DONE].
  static Reply chat(const std::vector<std::string>& content, const std::vector<std::string>& reasoning = {},
                    const std::string& finish_reason = "stop", bool usage = true, int prompt_tokens = 10);
  // A /v1/completions stream (choices[0].text).
  static Reply completion(const std::vector<std::string>& text, const std::string& finish_reason = "stop");
  // A non-streaming chat response.
  static Reply chat_json(const std::string& content, const std::string& reasoning = "",
                         const std::string& finish_reason = "stop");
  // An error status with an OpenAI-style error body; retry_after ("" = none) becomes Retry-After.
  static Reply error(int status, const std::string& message, const std::string& retry_after = "");
};

// Turns a normal answer into the given fault (the stream is cut, stalled or corrupted in its middle).
Reply with_fault(Reply reply, FaultKind kind, const std::string& retry_after);

// One chat.completion.chunk event carrying a delta (role/content/reasoning_content keys as given).
std::string chat_chunk(const nlohmann::json& delta, const std::string& finish_reason = "");
// The include_usage chunk (choices: []).
std::string usage_chunk(int prompt_tokens, int completion_tokens);

struct LoggedRequest {
  std::string method;
  std::string path;              // target without the query
  std::map<std::string, std::string> headers;
  std::string body;
  nlohmann::json json;           // parsed body (null when not JSON)
  int64_t arrival_ns = 0;        // hb::monotonic_ns()
  std::optional<FaultKind> fault;  // the fault injected into this request's answer, if any
  // The content of the last message with role "user" ("" when none).
  std::string last_user_content() const;
};

using Script = std::function<Reply(const LoggedRequest& request, int index)>;

class LoopbackServer {
 public:
  explicit LoopbackServer(int io_threads = 1);
  ~LoopbackServer();
  int port() const;
  std::string base_url() const;  // http://127.0.0.1:PORT/v1
  void script(Script script);
  // Seeded random faults applied on top of the scripted (or default) answers of chat/completions requests.
  void faults(const std::vector<FaultSpec>& specs, std::string retry_after = "0");
  std::vector<LoggedRequest> requests() const;
  size_t request_count() const;
  http::HttpServer& http() { return *server_; }
  // Times (monotonic ns) at which each scripted response ended because the client went away.
  size_t client_disconnects() const;

  // The default answer: a streamed chat answer "The answer is 42.\n#### 42" (or a JSON one when the
  // request has stream false).
  static Reply default_reply(const LoggedRequest& request);

 private:
  void handle(const http::HttpRequest& req, std::shared_ptr<http::ResponseWriter> writer);
  void play(std::shared_ptr<http::ResponseWriter> writer, std::shared_ptr<Reply> reply, size_t next);

  mutable std::mutex mu_;
  Script script_;
  std::shared_ptr<FaultInjector> faults_;
  std::string retry_after_ = "0";
  std::vector<LoggedRequest> log_;
  size_t disconnects_ = 0;
  std::unique_ptr<http::HttpServer> server_;
};

}  // namespace hb::testing
