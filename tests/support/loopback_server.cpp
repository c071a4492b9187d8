#include "tests/support/loopback_server.h"

#include <algorithm>

#include "harness/base/clock.h"

namespace hb::testing {
namespace {
using json = nlohmann::json;
}  // namespace

std::string chat_chunk(const json& delta, const std::string& finish_reason) {
  json choice = {{"index", 0}, {"delta", delta}, {"finish_reason", nullptr}};
  if (!finish_reason.empty()) choice["finish_reason"] = finish_reason;
  json chunk = {{"id", "chatcmpl-loopback"},
                {"object", "chat.completion.chunk"},
                {"created", 1},
                {"model", "loopback"},
                {"choices", json::array({choice})},
                {"usage", nullptr}};
  return chunk.dump();
}

std::string usage_chunk(int prompt_tokens, int completion_tokens) {
  json chunk = {{"id", "chatcmpl-loopback"},
                {"object", "chat.completion.chunk"},
                {"created", 1},
                {"model", "loopback"},
                {"choices", json::array()},
                {"usage",
                 {{"prompt_tokens", prompt_tokens},
                  {"completion_tokens", completion_tokens},
                  {"total_tokens", prompt_tokens + completion_tokens}}}};
  return chunk.dump();
}

Reply Reply::chat(const std::vector<std::string>& content, const std::vector<std::string>& reasoning,
                  const std::string& finish_reason, bool usage, int prompt_tokens) {
  Reply r;
  r.events.push_back(chat_chunk({{"role", "assistant"}, {"content", ""}}));
  for (const auto& piece : reasoning) r.events.push_back(chat_chunk({{"reasoning_content", piece}}));
  for (const auto& piece : content) r.events.push_back(chat_chunk({{"content", piece}}));
  r.events.push_back(chat_chunk(json::object(), finish_reason));
  if (usage) r.events.push_back(usage_chunk(prompt_tokens, static_cast<int>(content.size() + reasoning.size())));
  return r;
}

Reply Reply::completion(const std::vector<std::string>& text, const std::string& finish_reason) {
  Reply r;
  for (size_t i = 0; i < text.size(); ++i) {
    json choice = {{"index", 0}, {"text", text[i]}, {"finish_reason", nullptr}};
    if (i + 1 == text.size()) choice["finish_reason"] = finish_reason;
    r.events.push_back(json{{"object", "text_completion"}, {"choices", json::array({choice})}}.dump());
  }
  return r;
}

Reply Reply::chat_json(const std::string& content, const std::string& reasoning, const std::string& finish_reason) {
  Reply r;
  r.stream = false;
  json message = {{"role", "assistant"}, {"content", content}};
  if (!reasoning.empty()) message["reasoning_content"] = reasoning;
  r.body = json{{"id", "chatcmpl-loopback"},
                {"object", "chat.completion"},
                {"choices", json::array({{{"index", 0}, {"message", message}, {"finish_reason", finish_reason}}})},
                {"usage", {{"prompt_tokens", 10}, {"completion_tokens", 7}, {"total_tokens", 17}}}}
               .dump();
  return r;
}

Reply Reply::error(int status, const std::string& message, const std::string& retry_after) {
  Reply r;
  r.status = status;
  r.stream = false;
  r.body = json{{"error", {{"message", message}, {"type", "loopback_error"}, {"code", status}}}}.dump();
  if (!retry_after.empty()) r.headers.emplace_back("Retry-After", retry_after);
  return r;
}

Reply with_fault(Reply reply, FaultKind kind, const std::string& retry_after) {
  int middle = static_cast<int>(reply.events.size() / 2);
  switch (kind) {
    case FaultKind::rate_limit:
      return Reply::error(429, "rate limited (loopback fault)", retry_after);
    case FaultKind::close:
      reply.close_without_response = true;
      break;
    case FaultKind::drop:
      if (!reply.stream) reply.close_without_response = true;
      else reply.cut_after = std::max(1, middle);
      break;
    case FaultKind::stall:
      if (!reply.stream) reply.first_byte_delay = milliseconds(3'600'000);
      else reply.stall_after = std::max(1, middle);
      break;
    case FaultKind::invalid_json:
      if (!reply.stream) reply.body = invalid_json_event_data();
      else reply.events.insert(reply.events.begin() + middle, invalid_json_event_data());
      break;
    case FaultKind::error_event:
      if (!reply.stream) {
        reply.body = error_event_data();
      } else {
        reply.events.resize(static_cast<size_t>(middle));
        reply.events.push_back(error_event_data());
        reply.send_done = false;
      }
      break;
  }
  return reply;
}

std::string LoggedRequest::last_user_content() const {
  if (!json.is_object() || !json.contains("messages") || !json["messages"].is_array()) return "";
  std::string out;
  for (const auto& m : json["messages"])
    if (m.value("role", "") == "user" && m.contains("content") && m["content"].is_string())
      out = m["content"].get<std::string>();
  return out;
}

LoopbackServer::LoopbackServer(int io_threads) {
  server_ = std::make_unique<http::HttpServer>(
      "127.0.0.1", 0, [this](const http::HttpRequest& req, std::shared_ptr<http::ResponseWriter> w) { handle(req, w); },
      io_threads);
}

LoopbackServer::~LoopbackServer() { server_->stop(); }

int LoopbackServer::port() const { return server_->port(); }
std::string LoopbackServer::base_url() const { return "http://127.0.0.1:" + std::to_string(port()) + "/v1"; }

void LoopbackServer::faults(const std::vector<FaultSpec>& specs, std::string retry_after) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_ = std::make_shared<FaultInjector>(specs);
  retry_after_ = std::move(retry_after);
}

void LoopbackServer::script(Script script) {
  std::lock_guard<std::mutex> lock(mu_);
  script_ = std::move(script);
}

std::vector<LoggedRequest> LoopbackServer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return log_;
}

size_t LoopbackServer::request_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return log_.size();
}

size_t LoopbackServer::client_disconnects() const {
  std::lock_guard<std::mutex> lock(mu_);
  return disconnects_;
}

Reply LoopbackServer::default_reply(const LoggedRequest& request) {
  bool stream = request.json.is_object() && request.json.value("stream", false);
  if (!stream) return Reply::chat_json("The answer is 42.\n#### 42");
  return Reply::chat({"The", " answer", " is", " 42", ".\n", "####", " 42"});
}

void LoopbackServer::handle(const http::HttpRequest& req, std::shared_ptr<http::ResponseWriter> writer) {
  LoggedRequest logged;
  logged.method = req.method;
  logged.path = req.target.substr(0, req.target.find('?'));
  logged.headers = req.headers;
  logged.body = req.body;
  logged.json = json::parse(req.body, nullptr, false);
  if (logged.json.is_discarded()) logged.json = nullptr;
  logged.arrival_ns = monotonic_ns();
  Script script;
  int index = 0;
  std::string retry_after;
  bool completion_path = logged.path == "/v1/chat/completions" || logged.path == "/v1/completions";
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (faults_ && completion_path) logged.fault = faults_->draw();
    retry_after = retry_after_;
    index = static_cast<int>(log_.size());
    log_.push_back(logged);
    script = script_;
  }
  if (logged.path == "/health" || logged.path == "/v1/health") {
    writer->send(200, "application/json", "{\"status\":\"ok\"}");
    return;
  }
  if (logged.path == "/v1/models") {
    writer->send(200, "application/json",
                 json{{"object", "list"}, {"data", json::array({{{"id", "loopback"}, {"object", "model"}}})}}.dump());
    return;
  }
  if (logged.path != "/v1/chat/completions" && logged.path != "/v1/completions") {
    Reply r = Reply::error(404, "no route for " + req.method + " " + logged.path);
    writer->send(r.status, r.content_type, r.body);
    return;
  }
  auto reply = std::make_shared<Reply>(script ? script(logged, index) : default_reply(logged));
  if (logged.fault) *reply = with_fault(std::move(*reply), *logged.fault, retry_after);
  auto start = [this, writer, reply] {
    if (reply->close_without_response) {
      writer->abort();
      return;
    }
    if (!reply->stream || reply->status != 200) {
      writer->send(reply->status, reply->content_type, reply->body, reply->headers);
      return;
    }
    writer->start_stream(200, "text/event-stream", reply->headers);
    for (const auto& raw : reply->raw_before) writer->write(raw);
    if (reply->first_event_delay.count() > 0) {
      server_->post_after(reply->first_event_delay, [this, writer, reply] { play(writer, reply, 0); });
    } else {
      play(writer, reply, 0);
    }
  };
  if (reply->first_byte_delay.count() > 0) server_->post_after(reply->first_byte_delay, start);
  else start();
}

void LoopbackServer::play(std::shared_ptr<http::ResponseWriter> writer, std::shared_ptr<Reply> reply, size_t next) {
  while (true) {
    if (writer->closed()) {
      std::lock_guard<std::mutex> lock(mu_);
      ++disconnects_;
      return;
    }
    if (reply->cut_after >= 0 && next == static_cast<size_t>(reply->cut_after)) {
      writer->abort();
      return;
    }
    if (reply->stall_after >= 0 && next == static_cast<size_t>(reply->stall_after)) return;  // keep it open, silent
    if (next >= reply->events.size()) {
      if (reply->send_done) writer->write("data: [DONE]\n\n");
      if (!reply->raw_after.empty()) writer->write(reply->raw_after);
      writer->end();
      return;
    }
    writer->write("data: " + reply->events[next] + "\n\n");
    ++next;
    if (reply->event_delay.count() > 0 && next <= reply->events.size()) {
      server_->post_after(reply->event_delay, [this, writer, reply, next] { play(writer, reply, next); });
      return;
    }
  }
}

}  // namespace hb::testing
