// hb_loopback_server: a standalone OpenAI-compatible test server for end-to-end tests of the hybench
// binary and for client benchmarks. It listens on 127.0.0.1, writes its port to --port-file once
// listening, appends one JSON line per request to --log (flushed per request, so a killed client's
// requests are all there), and answers /v1/chat/completions and /v1/completions:
//   --mode answer-number  (default) a short answer ending in "#### 42"
//   --mode echo           the last user message, word by word
//   --mode schedule       a known schedule: first token after --first-token-ms, then one token every
//                         --itl-ms, --tokens tokens (0 = the request's max_tokens, capped by it unless
//                         --ignore-max-tokens), finish_reason "length", then the usage chunk
// --first-token-ms / --itl-ms also pace the other modes; --itl-ms-per-stream makes the gap grow with the
// answers in flight (a load-dependent server for SLO searches). --fail-rate F answers that fraction of requests
// (seeded by --seed) with HTTP 500. --fault NAME:RATE[:SEED] (repeatable) injects the faults of
// tests/support/fault_plan.h: 429 (with Retry-After: --retry-after), close, drop, invalid-json, stall,
// error-event; the log line of each request names its fault ("fault": null when none). GET /health and
// GET /v1/models answer 200. SIGINT/SIGTERM stop it.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "harness/base/clock.h"
#include "harness/http/http_server.h"
#include "tests/support/fault_plan.h"

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string port_file;
  std::string log_file;
  std::string mode = "answer-number";
  double first_token_ms = 0;
  double itl_ms = 0;
  double itl_ms_per_stream = 0;
  int tokens = 0;
  bool ignore_max_tokens = false;
  double fail_rate = 0;
  uint64_t seed = 1;
  int threads = 1;
  std::vector<std::string> faults;  // NAME:RATE[:SEED]
  std::string retry_after = "1";
};

using hb::testing::FaultKind;

std::string chunk(const std::string& content, const char* finish_reason, bool completions) {
  json choice = completions ? json{{"index", 0}, {"text", content}, {"finish_reason", nullptr}}
                            : json{{"index", 0}, {"delta", {{"content", content}}}, {"finish_reason", nullptr}};
  if (finish_reason) choice["finish_reason"] = finish_reason;
  json c = {{"id", "cmpl-loopback"},
            {"object", completions ? "text_completion" : "chat.completion.chunk"},
            {"model", "loopback"},
            {"choices", json::array({choice})}};
  return "data: " + c.dump() + "\n\n";
}

std::string usage_event(int64_t prompt_tokens, int64_t completion_tokens) {
  json c = {{"id", "cmpl-loopback"},
            {"object", "chat.completion.chunk"},
            {"model", "loopback"},
            {"choices", json::array()},
            {"usage",
             {{"prompt_tokens", prompt_tokens},
              {"completion_tokens", completion_tokens},
              {"total_tokens", prompt_tokens + completion_tokens}}}};
  return "data: " + c.dump() + "\n\n";
}

// One streamed answer played on the server's timers.
struct Job {
  std::shared_ptr<hb::http::ResponseWriter> writer;
  std::vector<std::string> pieces;
  Clock::time_point first_token_at;
  std::chrono::nanoseconds itl{0};
  size_t next = 0;
  bool completions = false;
  bool include_usage = true;
  int64_t prompt_tokens = 0;
  const char* finish_reason = "stop";
  std::optional<FaultKind> fault;  // drop, stall, invalid-json or error-event at piece fault_at
  size_t fault_at = 0;
};

class App {
 public:
  explicit App(Options o)
      : opt_(std::move(o)),
        rng_(opt_.seed),
        faults_(parse_faults(opt_)),
        x_chat_(chunk(" x", nullptr, false)),
        x_completion_(chunk(" x", nullptr, true)) {
    if (!opt_.log_file.empty()) {
      log_ = std::fopen(opt_.log_file.c_str(), "a");
      if (!log_) throw std::runtime_error("cannot open --log " + opt_.log_file + " for appending");
    }
    server_ = std::make_unique<hb::http::HttpServer>(
        opt_.host, opt_.port,
        [this](const hb::http::HttpRequest& r, std::shared_ptr<hb::http::ResponseWriter> w) { handle(r, w); },
        opt_.threads);
  }
  ~App() {
    server_->stop();
    if (log_) std::fclose(log_);
  }
  // How late the server itself sent tokens against its schedule (so a client measurement can be told
  // apart from server lateness): percentiles in ms, printed at exit.
  std::string lateness_summary() {
    std::lock_guard<std::mutex> lock(late_mu_);
    if (late_ns_.empty()) return "no scheduled tokens sent";
    std::sort(late_ns_.begin(), late_ns_.end());
    auto q = [&](double p) { return late_ns_[static_cast<size_t>(p * static_cast<double>(late_ns_.size() - 1))] / 1e6; };
    char buf[200];
    std::snprintf(buf, sizeof buf, "server token lateness vs schedule over %zu tokens: p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms",
                  late_ns_.size(), q(0.5), q(0.9), q(0.99), q(1.0));
    return buf;
  }
  int port() const { return server_->port(); }

 private:
  void log_request(const json& line) {
    if (!log_) return;
    std::lock_guard<std::mutex> lock(log_mu_);
    std::string s = line.dump(-1, ' ', false, json::error_handler_t::replace);
    s += '\n';
    std::fwrite(s.data(), 1, s.size(), log_);
    std::fflush(log_);
  }

  static std::vector<hb::testing::FaultSpec> parse_faults(const Options& o) {
    std::vector<hb::testing::FaultSpec> specs;
    for (const auto& f : o.faults) specs.push_back(hb::testing::parse_fault_spec(f, o.seed));
    return specs;
  }

  void handle(const hb::http::HttpRequest& req, std::shared_ptr<hb::http::ResponseWriter> w) {
    auto arrival = Clock::now();
    std::string path = req.target.substr(0, req.target.find('?'));
    if (path == "/health" || path == "/v1/health") return w->send(200, "application/json", "{\"status\":\"ok\"}");
    if (path == "/v1/models")
      return w->send(200, "application/json",
                     json{{"object", "list"}, {"data", json::array({{{"id", "loopback"}, {"object", "model"}}})}}.dump());
    json body = json::parse(req.body, nullptr, false);
    bool completions = path == "/v1/completions";
    if (path != "/v1/chat/completions" && !completions)
      return w->send(404, "application/json", json{{"error", {{"message", "no route for " + path}}}}.dump());
    if (body.is_discarded() || !body.is_object())
      return w->send(400, "application/json", json{{"error", {{"message", "the body is not a JSON object"}}}}.dump());

    std::string last_user;
    int64_t prompt_chars = 0;
    if (body.contains("messages") && body["messages"].is_array()) {
      for (const auto& m : body["messages"]) {
        if (!m.is_object() || !m.contains("content") || !m["content"].is_string()) continue;
        prompt_chars += static_cast<int64_t>(m["content"].get_ref<const std::string&>().size());
        if (m.value("role", "") == "user") last_user = m["content"].get<std::string>();
      }
    } else if (body.contains("prompt") && body["prompt"].is_string()) {
      last_user = body["prompt"].get<std::string>();
      prompt_chars = static_cast<int64_t>(last_user.size());
    }
    bool stream = body.value("stream", false);
    int max_tokens = body.contains("max_tokens") && body["max_tokens"].is_number_integer() ? body["max_tokens"].get<int>() : -1;
    bool fail = false;
    {
      std::lock_guard<std::mutex> lock(rng_mu_);
      fail = opt_.fail_rate > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < opt_.fail_rate;
    }
    std::optional<FaultKind> fault = fail ? std::nullopt : faults_.draw();
    log_request({{"i", counter_.fetch_add(1)},
                 {"t", hb::utc_now_iso8601()},
                 {"path", path},
                 {"model", body.value("model", "")},
                 {"stream", stream},
                 {"max_tokens", max_tokens},
                 {"status", fail ? 500 : fault == FaultKind::rate_limit ? 429 : 200},
                 {"fault", fault ? json(hb::testing::fault_name(*fault)) : json(nullptr)},
                 {"last_user", last_user}});
    if (fail) return w->send(500, "application/json", json{{"error", {{"message", "injected failure (--fail-rate)"}}}}.dump());
    if (fault == FaultKind::rate_limit)
      return w->send(429, "application/json", json{{"error", {{"message", "rate limited (--fault 429)"}}}}.dump(),
                     {{"Retry-After", opt_.retry_after}});
    if (fault == FaultKind::close) return w->abort();

    auto job = std::make_shared<Job>();
    job->writer = w;
    job->completions = completions;
    job->prompt_tokens = std::max<int64_t>(1, prompt_chars / 4);
    job->include_usage = body.contains("stream_options") && body["stream_options"].value("include_usage", false);
    if (opt_.mode == "schedule") {
      int n = opt_.tokens > 0 ? opt_.tokens : (max_tokens > 0 ? max_tokens : 64);
      if (!opt_.ignore_max_tokens && max_tokens > 0) n = std::min(n, max_tokens);
      job->pieces.assign(static_cast<size_t>(n), " x");
      job->finish_reason = "length";
    } else if (opt_.mode == "echo") {
      std::istringstream words(last_user);
      std::string word;
      while (words >> word) job->pieces.push_back(job->pieces.empty() ? word : " " + word);
    } else {
      job->pieces = {"The", " answer", " is", " 42", ".\n", "####", " 42"};
    }
    if (!opt_.ignore_max_tokens && max_tokens > 0 && job->pieces.size() > static_cast<size_t>(max_tokens)) {
      job->pieces.resize(static_cast<size_t>(max_tokens));
      job->finish_reason = "length";
    }
    if (!stream && fault) {  // a whole-body answer cannot be cut in the middle of its events
      if (fault == FaultKind::drop) return w->abort();
      if (fault == FaultKind::stall) return;  // the connection stays open, silent
      return w->send(200, "application/json",
                     fault == FaultKind::invalid_json ? hb::testing::invalid_json_event_data() : hb::testing::error_event_data());
    }
    job->fault = fault;
    job->fault_at = job->pieces.size() / 2;
    if (!stream) {
      std::string text;
      for (const auto& p : job->pieces) text += p;
      json choice = completions ? json{{"index", 0}, {"text", text}, {"finish_reason", job->finish_reason}}
                                : json{{"index", 0},
                                       {"message", {{"role", "assistant"}, {"content", text}}},
                                       {"finish_reason", job->finish_reason}};
      json resp = {{"id", "cmpl-loopback"},
                   {"object", completions ? "text_completion" : "chat.completion"},
                   {"model", "loopback"},
                   {"choices", json::array({choice})},
                   {"usage",
                    {{"prompt_tokens", job->prompt_tokens},
                     {"completion_tokens", job->pieces.size()},
                     {"total_tokens", job->prompt_tokens + static_cast<int64_t>(job->pieces.size())}}}};
      auto delay = std::chrono::duration<double, std::milli>(opt_.first_token_ms + opt_.itl_ms * job->pieces.size());
      auto send = [w, s = resp.dump()] { w->send(200, "application/json", s); };
      if (delay.count() > 0) server_->post_after(std::chrono::duration_cast<std::chrono::nanoseconds>(delay), send);
      else send();
      return;
    }
    w->start_stream(200, "text/event-stream");
    if (!completions) {
      json role = {{"id", "cmpl-loopback"},
                   {"object", "chat.completion.chunk"},
                   {"model", "loopback"},
                   {"choices", json::array({{{"index", 0}, {"delta", {{"role", "assistant"}, {"content", ""}}}, {"finish_reason", nullptr}}})}};
      w->write("data: " + role.dump() + "\n\n");
    }
    job->first_token_at = arrival + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double, std::milli>(opt_.first_token_ms));
    job->itl = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::duration<double, std::milli>(opt_.itl_ms + opt_.itl_ms_per_stream * (streams_at(arrival, job) - 1)));
    step(job);
  }

  // --itl-ms-per-stream: the answers in flight when this one arrives (itself included), counted from the
  // end each was scheduled to have; this answer's scheduled end is recorded for the next ones.
  int streams_at(Clock::time_point arrival, const std::shared_ptr<Job>& job) {
    if (opt_.itl_ms_per_stream <= 0) return 1;
    std::lock_guard<std::mutex> lock(load_mu_);
    while (!ends_.empty() && *ends_.begin() <= arrival) ends_.erase(ends_.begin());
    int streams = static_cast<int>(ends_.size()) + 1;
    auto itl = std::chrono::duration<double, std::milli>(opt_.itl_ms + opt_.itl_ms_per_stream * (streams - 1));
    ends_.insert(job->first_token_at +
                 std::chrono::duration_cast<Clock::duration>(itl * static_cast<double>(job->pieces.size())));
    return streams;
  }

  // Sends every token that is due, then sleeps on a timer until the next one.
  void step(const std::shared_ptr<Job>& job) {
    for (;;) {
      if (job->writer->closed()) return;
      if (job->fault && job->next == job->fault_at) {
        FaultKind f = *job->fault;
        job->fault.reset();
        if (f == FaultKind::drop) return job->writer->abort();
        if (f == FaultKind::stall) return;  // nothing more is sent; the client's idle timeout ends it
        if (f == FaultKind::error_event) {
          job->writer->write("data: " + hb::testing::error_event_data() + "\n\n");
          return job->writer->end();
        }
        job->writer->write("data: " + hb::testing::invalid_json_event_data() + "\n\n");
      }
      if (job->next >= job->pieces.size()) {
        if (job->include_usage) job->writer->write(usage_event(job->prompt_tokens, static_cast<int64_t>(job->pieces.size())));
        job->writer->write("data: [DONE]\n\n");
        job->writer->end();
        return;
      }
      auto due = job->first_token_at + job->itl * static_cast<int64_t>(job->next);
      if (due > Clock::now()) {
        server_->post_at(due, [this, job] { step(job); });
        return;
      }
      if (opt_.first_token_ms > 0 || opt_.itl_ms > 0) {
        std::lock_guard<std::mutex> lock(late_mu_);
        if (late_ns_.size() < 50'000'000) late_ns_.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - due).count());
      }
      bool last = job->next + 1 == job->pieces.size();
      const std::string& piece = job->pieces[job->next];
      if (!last && piece == " x") job->writer->write(job->completions ? x_completion_ : x_chat_);  // pre-rendered
      else job->writer->write(chunk(piece, last ? job->finish_reason : nullptr, job->completions));
      ++job->next;
    }
  }

  Options opt_;
  FILE* log_ = nullptr;
  std::mutex log_mu_;
  std::mutex rng_mu_;
  std::mutex load_mu_;
  std::multiset<Clock::time_point> ends_;
  std::mt19937_64 rng_;
  hb::testing::FaultInjector faults_;
  std::atomic<int64_t> counter_{0};
  std::mutex late_mu_;
  std::vector<int64_t> late_ns_;
  const std::string x_chat_, x_completion_;  // the schedule mode's token chunk, rendered once
  std::unique_ptr<hb::http::HttpServer> server_;
};

void raise_fd_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App cli{"hb_loopback_server: a scripted OpenAI-compatible test server on 127.0.0.1"};
  cli.add_option("--host", o.host, "address to bind (default 127.0.0.1)");
  cli.add_option("--port", o.port, "port (default 0 = any free port)");
  cli.add_option("--port-file", o.port_file, "write the port to this file once listening");
  cli.add_option("--log", o.log_file, "append one JSON line per request to this file (flushed per request)");
  cli.add_option("--mode", o.mode, "answer-number | echo | schedule")
      ->check(CLI::IsMember({"answer-number", "echo", "schedule"}));
  cli.add_option("--first-token-ms", o.first_token_ms, "delay from request arrival to the first token");
  cli.add_option("--itl-ms", o.itl_ms, "gap between tokens");
  cli.add_option("--itl-ms-per-stream", o.itl_ms_per_stream,
                 "load-dependent latency: the gap grows by this much per other answer in flight at arrival");
  cli.add_option("--tokens", o.tokens, "schedule mode: tokens per answer (0 = the request's max_tokens)");
  cli.add_flag("--ignore-max-tokens", o.ignore_max_tokens, "do not cap answers at the request's max_tokens");
  cli.add_option("--fail-rate", o.fail_rate, "fraction of requests answered with HTTP 500")->check(CLI::Range(0.0, 1.0));
  cli.add_option("--seed", o.seed, "seed of --fail-rate");
  cli.add_option("--threads", o.threads, "io threads")->check(CLI::Range(1, 64));
  cli.add_option("--fault", o.faults, "inject a fault: NAME:RATE[:SEED], NAME one of 429, close, drop, invalid-json, "
                                      "stall, error-event (repeatable)");
  cli.add_option("--retry-after", o.retry_after, "Retry-After value of --fault 429 answers (seconds)");
  CLI11_PARSE(cli, argc, argv);

  raise_fd_limit();
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // io threads inherit the mask; main waits for the signal
  std::signal(SIGPIPE, SIG_IGN);
  try {
    App app(o);
    if (!o.port_file.empty()) {
      std::string tmp = o.port_file + ".tmp";
      {
        std::ofstream f(tmp);
        f << app.port() << "\n";
        if (!f) throw std::runtime_error("cannot write --port-file " + o.port_file);
      }
      if (std::rename(tmp.c_str(), o.port_file.c_str()) != 0) throw std::runtime_error("cannot write --port-file " + o.port_file);
    }
    std::fprintf(stderr, "hb_loopback_server: listening on %s:%d (mode %s)\n", o.host.c_str(), app.port(), o.mode.c_str());
    int sig = 0;
    sigwait(&set, &sig);
    std::fprintf(stderr, "hb_loopback_server: stopping on signal %d; %s\n", sig, app.lateness_summary().c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hb_loopback_server: error: %s\n", e.what());
    return 2;
  }
  return 0;
}
