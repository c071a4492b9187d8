// hybench serve --model SPEC: an OpenAI-compatible HTTP server on the native engine.
//   POST /v1/chat/completions, POST /v1/completions (stream or not; streaming sends usage when
//   stream_options.include_usage), GET /v1/models, GET /health.
// HTTP threads only parse and post; the engine thread owns the model and answers through thread-safe
// ResponseWriters. A client that disconnects mid-stream has its request cancelled; everyone else goes on.
#include <atomic>
#include <chrono>
#include <csignal>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "harness/base/clock.h"
#include "harness/base/console.h"
#include "harness/base/error.h"
#include "harness/base/strings.h"
#include "harness/cli/commands.h"
#ifdef HYBENCH_HAVE_ENGINE
#include "harness/http/http_server.h"
#include "harness/backends/native_backend.h"
#include "models/engine.h"
#endif

namespace hb::cli {
namespace {

struct ServeArgs {
  std::string model, host = "127.0.0.1", name;
  int port = 8000, max_batch = 32, io_threads = 2, threads = 1;
  long long kv_budget = 65536;
};

#ifdef HYBENCH_HAVE_ENGINE
using nlohmann::json;

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop.store(true); }

json error_body(const std::string& message, const std::string& type = "invalid_request_error") {
  return {{"error", {{"message", message}, {"type", type}}}};
}

class Server {
 public:
  Server(std::unique_ptr<models::Engine> engine, std::string name) : engine_(std::move(engine)), name_(std::move(name)) {}

  void handle(const http::HttpRequest& req, std::shared_ptr<http::ResponseWriter> w) {
    std::string path = req.target.substr(0, req.target.find('?'));
    if (req.method == "GET" && path == "/health") return w->send(200, "application/json", R"({"status":"ok"})");
    if (req.method == "GET" && path == "/v1/models") {
      json j = {{"object", "list"},
                {"data", json::array({{{"id", name_}, {"object", "model"}, {"created", 0}, {"owned_by", "hybench"}}})}};
      return w->send(200, "application/json", j.dump());
    }
    bool chat = path == "/v1/chat/completions";
    if (req.method == "POST" && (chat || path == "/v1/completions")) {
      try {
        return completion(req, w, chat);
      } catch (const Error& e) {
        return w->send(400, "application/json", error_body(e.message()).dump());
      } catch (const std::exception& e) {
        return w->send(400, "application/json", error_body(std::string("bad request: ") + e.what()).dump());
      }
    }
    w->send(404, "application/json", error_body("no route for " + req.method + " " + path, "not_found").dump());
  }

 private:
  void completion(const http::HttpRequest& req, std::shared_ptr<http::ResponseWriter> w, bool chat) {
    json body = json::parse(req.body);
    if (!body.is_object()) throw Error(ErrorCode::usage, "request body must be a JSON object");
    models::EngineRequest r;
    r.id = (chat ? "chatcmpl-" : "cmpl-") + std::to_string(next_id_.fetch_add(1));
    if (chat) {
      if (!body.contains("messages") || !body["messages"].is_array()) throw Error(ErrorCode::usage, "'messages' must be an array");
      std::vector<models::ChatTurn> turns;
      for (const auto& m : body["messages"]) {
        const auto& c = m.at("content");
        std::string text;
        if (c.is_string()) {
          text = c.get<std::string>();
        } else if (c.is_array()) {  // [{type: text, text: ...}]
          for (const auto& part : c) text += part.value("text", std::string());
        }
        turns.push_back({m.at("role").get<std::string>(), text});
      }
      r.prompt = engine_->encode_chat(turns);
      r.stop = models::chat_stop_strings(engine_->chat_format());
    } else {
      if (!body.contains("prompt") || !body["prompt"].is_string()) throw Error(ErrorCode::usage, "'prompt' must be a string");
      r.prompt = engine_->encode_prompt(body["prompt"].get<std::string>());
    }
    r.max_tokens = body.value("max_completion_tokens", body.value("max_tokens", 256));
    r.sampling.temperature = body.value("temperature", 1.0);
    r.sampling.top_p = body.value("top_p", 1.0);
    r.sampling.top_k = body.value("top_k", -1);
    r.sampling.min_p = body.value("min_p", 0.0);
    r.sampling.seed = body.contains("seed") && body["seed"].is_number() ? body["seed"].get<uint64_t>() : std::random_device{}();
    if (chat && body.value("logprobs", false)) r.sampling.top_logprobs = body.value("top_logprobs", 0);
    if (!chat && body.contains("logprobs") && body["logprobs"].is_number()) r.sampling.top_logprobs = body["logprobs"].get<int>();
    r.ignore_eos = body.value("ignore_eos", false);
    r.min_tokens = body.value("min_tokens", 0);
    if (body.contains("stop")) {
      if (body["stop"].is_string()) r.stop.push_back(body["stop"].get<std::string>());
      if (body["stop"].is_array()) {
        for (const auto& s : body["stop"]) r.stop.push_back(s.get<std::string>());
      }
    }
    if (body.contains("stop_token_ids")) r.stop_token_ids = body["stop_token_ids"].get<std::vector<int32_t>>();
    const bool stream = body.value("stream", false);
    const bool usage_in_stream = stream && body.contains("stream_options") && body["stream_options"].value("include_usage", false);
    const int64_t created = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    const std::string id = r.id, model = name_;
    const std::string object = chat ? "chat.completion" : "text_completion";
    auto handle = std::make_shared<std::atomic<uint64_t>>(0);
    models::Engine* engine = engine_.get();
    auto chunk = [=](const json& choice) {
      json c = {{"id", id}, {"object", chat ? "chat.completion.chunk" : "text_completion"}, {"created", created}, {"model", model},
                {"choices", json::array({choice})}};
      return "data: " + c.dump() + "\n\n";
    };
    auto usage = [](const models::EngineResult& res) {
      int64_t n = int64_t(res.tokens.size());
      return json{{"prompt_tokens", res.prompt_tokens}, {"completion_tokens", n}, {"total_tokens", res.prompt_tokens + n}};
    };
    if (stream) {
      w->start_stream(200, "text/event-stream", {{"Cache-Control", "no-cache"}});
      if (chat) w->write(chunk({{"index", 0}, {"delta", {{"role", "assistant"}, {"content", ""}}}, {"finish_reason", nullptr}}));
      r.on_token = [=](const models::TokenEvent& ev) {
        if (w->closed()) {
          if (uint64_t h = handle->load()) engine->cancel(h);
          return;
        }
        if (ev.text.empty()) return;
        std::string text = sanitize_utf8(ev.text);
        w->write(chat ? chunk({{"index", 0}, {"delta", {{"content", text}}}, {"finish_reason", nullptr}})
                      : chunk({{"index", 0}, {"text", text}, {"finish_reason", nullptr}}));
      };
      r.on_done = [=](models::EngineResult res) {
        if (w->closed()) return;
        if (res.finish_reason == "error") {
          w->write("data: " + error_body(res.error, "engine_error").dump() + "\n\n");
        } else {
          json fin = chat ? json{{"index", 0}, {"delta", json::object()}, {"finish_reason", res.finish_reason}}
                          : json{{"index", 0}, {"text", ""}, {"finish_reason", res.finish_reason}};
          w->write(chunk(fin));
          if (usage_in_stream) {
            json u = {{"id", id}, {"object", chat ? "chat.completion.chunk" : "text_completion"}, {"created", created},
                      {"model", model}, {"choices", json::array()}, {"usage", usage(res)}};
            w->write("data: " + u.dump() + "\n\n");
          }
        }
        w->write("data: [DONE]\n\n");
        w->end();
      };
    } else {
      r.on_done = [=](models::EngineResult res) {
        if (res.finish_reason == "error") return w->send(500, "application/json", error_body(res.error, "engine_error").dump());
        std::string text = sanitize_utf8(res.text);
        json choice = chat ? json{{"index", 0}, {"message", {{"role", "assistant"}, {"content", text}}}, {"finish_reason", res.finish_reason}}
                           : json{{"index", 0}, {"text", text}, {"finish_reason", res.finish_reason}};
        json j = {{"id", id}, {"object", object}, {"created", created}, {"model", model}, {"choices", json::array({choice})},
                  {"usage", usage(res)}};
        w->send(200, "application/json", j.dump());
      };
    }
    try {
      handle->store(engine_->submit(std::move(r)));
    } catch (const Error& e) {
      if (stream) {
        w->write("data: " + error_body(e.message()).dump() + "\n\n");
        w->end();
        return;
      }
      throw;
    }
  }

  std::unique_ptr<models::Engine> engine_;
  std::string name_;
  std::atomic<uint64_t> next_id_{1};
};

int run_serve(const ServeArgs& a) {
  std::string spec = a.model;
  if (starts_with(spec, "native:")) spec = spec.substr(7);
  NativeOptions defaults;
  defaults.max_in_flight = a.max_batch;
  defaults.kv_budget_tokens = a.kv_budget;
  defaults.threads = a.threads;
  NativeSpec parsed = parse_native_spec(spec, defaults);
  spec = parsed.target;
  auto engine = make_native_engine(parsed);
  std::string name = a.name;
  if (name.empty()) {
    std::string s = starts_with(spec, "preset:") ? spec.substr(7) : spec;
    while (!s.empty() && s.back() == '/') s.pop_back();
    name = starts_with(spec, "preset:") ? s : s.substr(s.find_last_of('/') + 1);
  }
  auto server = std::make_shared<Server>(std::move(engine), name);
  http::HttpServer http(a.host, a.port, [server](const http::HttpRequest& req, std::shared_ptr<http::ResponseWriter> w) {
    server->handle(req, std::move(w));
  }, a.io_threads);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  log_info("serving {} on http://{}:{}/v1 (OpenAI-compatible; Ctrl-C stops)", name, a.host, http.port());
  // The bound port on stdout, for scripts that start the server with --port 0.
  std::printf("{\"host\":\"%s\",\"port\":%d,\"model\":\"%s\"}\n", a.host.c_str(), http.port(), name.c_str());
  std::fflush(stdout);
  while (!g_stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  log_info("stopping");
  http.stop();
  return kExitOk;
}
#endif

}  // namespace

void add_serve_command(CLI::App& root, int& exit_code) {
  auto a = std::make_shared<ServeArgs>();
  auto* cmd = root.add_subcommand("serve", "OpenAI-compatible HTTP server on the native engine");
  cmd->add_option("--model", a->model, "native:PATH or native:preset:NAME, optionally ,device=cpu|cuda,context=N,... (see docs/ENGINE.md)")->required();
  cmd->add_option("--host", a->host, "address to bind (default 127.0.0.1)");
  cmd->add_option("--port", a->port, "port (default 8000; 0 = any free port, printed on stdout)");
  cmd->add_option("--served-model-name", a->name, "model id reported by /v1/models");
  cmd->add_option("--max-batch", a->max_batch, "sequences decoding at once (default 32)");
  cmd->add_option("--kv-budget", a->kv_budget, "KV tokens reservable across live sequences (default 65536)");
  cmd->add_option("--threads", a->threads, "intra-op CPU threads for the model (default 1; 0 = LibTorch's default)");
  cmd->callback([a, &exit_code] {
#ifdef HYBENCH_HAVE_ENGINE
    exit_code = run_serve(*a);
#else
    throw Error(ErrorCode::usage, "this hybench was built without the native engine (LibTorch not found)");
#endif
  });
}

}  // namespace hb::cli
