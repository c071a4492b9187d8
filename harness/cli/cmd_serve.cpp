// hybench serve --model SPEC: an OpenAI-compatible HTTP server on the native engine (the routes are
// harness/http/openai_server.h). A client that disconnects has its request cancelled; everyone else goes on.
#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>

#include "harness/base/console.h"
#include "harness/base/error.h"
#include "harness/base/strings.h"
#include "harness/cli/commands.h"
#ifdef HYBENCH_HAVE_ENGINE
#include "harness/http/http_server.h"
#include "harness/http/openai_server.h"
#include "harness/backends/native_backend.h"
#endif

namespace hb::cli {
namespace {

struct ServeArgs {
  std::string model, host = "127.0.0.1", name;
  int port = 8000, max_batch = 32, io_threads = 2, threads = 1;
  long long kv_budget = 65536;
};

#ifdef HYBENCH_HAVE_ENGINE
std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop.store(true); }

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
  auto server = std::make_shared<http::OpenAIServer>(std::move(engine), name);
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
