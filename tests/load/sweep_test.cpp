// Sweeps against the in-process loopback server with a real SQLite store: points and traces stored,
// resume at the first unfinished point, faults recorded while the sweep goes on, replicas, open loop,
// and launched servers (exits at once, never healthy, healthy and stopped).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <cstdlib>
#include <random>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <future>
#include <thread>

#include "harness/base/clock.h"
#include "harness/base/error.h"
#include "harness/load/launched_backend.h"
#include "harness/load/launched_server.h"
#include "harness/load/sweep.h"
#include "harness/openai/openai_backend.h"
#include "harness/store/store.h"
#include "tests/support/free_port.h"
#include "tests/support/loopback_server.h"

namespace hb::load {
namespace {

using namespace std::chrono_literals;
using hb::testing::LoggedRequest;
using hb::testing::LoopbackServer;
using hb::testing::Reply;
namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/hb_sweep_test_XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// Streams max_tokens one-token chunks (or `tokens` when > 0), with usage.
Reply tokens_reply(const LoggedRequest& req, int tokens = 0) {
  int n = tokens > 0 ? tokens : req.json.value("max_tokens", 4);
  std::vector<std::string> pieces(static_cast<size_t>(n), " t");
  return Reply::chat(pieces, {}, "length");
}

openai::OpenAiOptions options_for(std::vector<std::string> urls, int max_attempts = 1) {
  openai::OpenAiOptions o;
  o.base_urls = std::move(urls);
  o.model_name = "loopback";
  o.api_key_env = "HB_TEST_UNSET_KEY_VARIABLE";
  o.max_in_flight = 64;
  o.max_attempts = max_attempts;
  o.backoff_base_s = 0.01;
  o.backoff_max_s = 0.02;
  o.idle_timeout_s = 2;
  o.connect_timeout_s = 1;
  return o;
}

SweepOptions small_sweep() {
  SweepOptions o;
  o.model_name = "loopback";
  o.shapes = {{20, 8}};
  o.loads = {{LoadKind::concurrency, 2, 1}, {LoadKind::concurrency, 4, 1}};
  o.repeats = 2;
  o.requests = 6;
  return o;
}

int64_t count(store::Store& s, const std::string& sql) {
  auto q = s.reader().prepare(sql);
  q.step();
  return q.int64(0);
}

TEST(Sweep, StoresPointsAndTracesThenResumesAtTheFirstUnfinishedPoint) {
  TempDir dir;
  LoopbackServer server;
  server.script([](const LoggedRequest& r, int) { return tokens_reply(r); });
  auto backend = openai::make_openai_backend(options_for({server.base_url()}));
  SweepOptions o = small_sweep();
  store::Store store((dir.path / "h.db").string());
  auto run = store.open_run("s", "sweep", {{"x", 1}});
  int64_t model = store.ensure_model({"openai:test", "loopback", {}, {}, {}, {}, nlohmann::json::object()});
  SweepResult r = run_sweep(*backend, o, &store, run.id, model);
  ASSERT_EQ(r.points.size(), 4u);
  EXPECT_EQ(server.request_count(), 24u);
  for (const auto& p : r.points) {
    EXPECT_FALSE(p.resumed);
    EXPECT_EQ(p.metrics["ok"], 6);
    EXPECT_EQ(p.metrics["output_length_mismatch"], 0);
    EXPECT_EQ(p.metrics["mean_output_tokens"], 8.0);
  }
  store.flush();
  EXPECT_EQ(count(store, "SELECT COUNT(*) FROM perf_points WHERE status='finished'"), 4);
  EXPECT_EQ(count(store, "SELECT COUNT(*) FROM request_traces"), 24);
  EXPECT_EQ(count(store, "SELECT MIN(length(chunks)) FROM request_traces"), 8 * 12) << "8 chunks x (int64 + int32)";
  EXPECT_EQ(count(store, "SELECT COUNT(*) FROM request_traces WHERE first_token_ns IS NULL OR end_ns < first_token_ns"), 0);
  // Every request of a point was requested with the forced output length.
  auto log = server.requests();
  for (const auto& req : log) {
    EXPECT_EQ(req.json["max_tokens"], 8);
    EXPECT_EQ(req.json["ignore_eos"], true);
    EXPECT_EQ(req.json["min_tokens"], 8);
  }

  // A second run of the same sweep requests nothing.
  SweepResult again = run_sweep(*backend, o, &store, run.id, model);
  EXPECT_EQ(server.request_count(), 24u);
  for (const auto& p : again.points) EXPECT_TRUE(p.resumed);

  // Simulate a kill in the middle of the third point: it is re-run from scratch, nothing else.
  store.write_sync([](store::Db& db) {
    db.exec("UPDATE perf_points SET status='running' WHERE point_key='" + point_key({20, 8}, {LoadKind::concurrency, 4, 1}, 0) + "'");
    db.exec("DELETE FROM request_traces WHERE rowid IN (SELECT rowid FROM request_traces LIMIT 3)");
  });
  SweepResult resumed = run_sweep(*backend, o, &store, run.id, model);
  EXPECT_EQ(server.request_count(), 30u) << "only the unfinished point ran again";
  int fresh = 0;
  for (const auto& p : resumed.points) fresh += !p.resumed;
  EXPECT_EQ(fresh, 1);
  store.flush();
  EXPECT_EQ(count(store, "SELECT COUNT(*) FROM perf_points WHERE status='finished'"), 4);
  auto json = resumed.to_json(o);
  EXPECT_EQ(json["schema_version"], 1);
  EXPECT_EQ(json["points"].size(), 4u);
  EXPECT_TRUE(json["points"][0].contains("ttft_ms"));
  EXPECT_TRUE(json["points"][0]["ttft_ms"].contains("p99"));
  EXPECT_TRUE(json["points"][0].contains("client_cpu_us_per_token"));
  EXPECT_TRUE(json["metric_definitions"].contains("itl_ms"));
  EXPECT_EQ(json["summary"].size(), 2u);
}

TEST(Sweep, FaultsAreRecordedPerPointAndTheSweepGoesOn) {
  LoopbackServer server;
  server.script([](const LoggedRequest& r, int i) {
    switch (i % 6) {
      case 0: return Reply::error(503, "overloaded", "0.01");
      case 1: {
        Reply t = tokens_reply(r);
        t.cut_after = 3;
        return t;
      }
      case 2: {  // a stream without usage: counted by the client
        std::vector<std::string> pieces(8, " t");
        return Reply::chat(pieces, {}, "length", /*usage=*/false);
      }
      case 3: return tokens_reply(r, 20);  // ignores max_tokens
      case 4: {
        Reply t = tokens_reply(r);
        t.stall_after = 2;
        return t;
      }
      default: return tokens_reply(r);
    }
  });
  auto o = options_for({server.base_url()});
  o.idle_timeout_s = 0.3;
  auto backend = openai::make_openai_backend(o);
  SweepOptions s = small_sweep();
  s.repeats = 1;
  s.requests = 12;
  SweepResult r = run_sweep(*backend, s, nullptr, 0, 0);
  ASSERT_EQ(r.points.size(), 2u) << "the second point ran after the first had failures";
  const auto& m = r.points[0].metrics;
  EXPECT_EQ(m["requests"], 12);
  EXPECT_EQ(m["errors"], 6);
  EXPECT_EQ(m["errors_by_kind"]["http_503"], 2);
  EXPECT_EQ(m["errors_by_kind"]["truncated"], 2);
  EXPECT_EQ(m["errors_by_kind"]["timeout"], 2);
  EXPECT_EQ(m["output_length_mismatch"], 2) << "the server that ignores max_tokens is flagged";
  EXPECT_EQ(m["token_count_source"], "mixed");
  auto json = r.to_json(s);
  EXPECT_TRUE(json["points"][0]["output_length_flagged"].get<bool>());
}

TEST(Sweep, ConnectionRefusedInTheMiddleOfASweep) {
  auto server = std::make_unique<LoopbackServer>();
  server->script([](const LoggedRequest& r, int) { return tokens_reply(r); });
  auto backend = openai::make_openai_backend(options_for({server->base_url()}));
  SweepOptions s = small_sweep();
  s.repeats = 1;
  LoopbackServer* raw = server.get();
  int points_started = 0;
  SweepResult r = run_sweep(*backend, s, nullptr, 0, 0, [&] {
    if (++points_started == 2) {
      raw->http().stop();  // the server goes away between the points
    }
  });
  ASSERT_EQ(r.points.size(), 2u);
  EXPECT_EQ(r.points[0].metrics["errors"], 0);
  EXPECT_EQ(r.points[1].metrics["errors"], 6);
  EXPECT_EQ(r.points[1].metrics["errors_by_kind"]["connect"], 6);
}

TEST(Sweep, ReplicasAreCountedPerEndpoint) {
  LoopbackServer a, b;
  a.script([](const LoggedRequest& r, int) { return tokens_reply(r); });
  b.script([](const LoggedRequest& r, int) { return tokens_reply(r); });
  auto backend = openai::make_openai_backend(options_for({a.base_url(), b.base_url()}));
  SweepOptions s = small_sweep();
  s.loads = {{LoadKind::concurrency, 4, 1}};
  s.repeats = 1;
  s.requests = 20;
  SweepResult r = run_sweep(*backend, s, nullptr, 0, 0);
  const auto& eps = r.points[0].metrics["endpoints"];
  ASSERT_EQ(eps.size(), 2u);
  EXPECT_EQ(eps[a.base_url()]["requests"].get<int>() + eps[b.base_url()]["requests"].get<int>(), 20);
  // Counted per endpoint exactly as each server saw them. The split itself follows the least-in-flight rule,
  // so it may be uneven when one server answers faster on a loaded machine; both take part.
  EXPECT_EQ(eps[a.base_url()]["requests"].get<size_t>(), a.request_count());
  EXPECT_EQ(eps[b.base_url()]["requests"].get<size_t>(), b.request_count());
  EXPECT_GT(a.request_count(), 0u);
  EXPECT_GT(b.request_count(), 0u);
  EXPECT_EQ(a.request_count() + b.request_count(), 20u);
}

TEST(Sweep, OpenLoopFollowsTheSchedule) {
  LoopbackServer server;
  server.script([](const LoggedRequest& r, int) { return tokens_reply(r); });
  auto backend = openai::make_openai_backend(options_for({server.base_url()}));
  SweepOptions s = small_sweep();
  s.loads = {{LoadKind::rate, 20, 1}};  // 20/s, Poisson, rescaled: 20 requests span 0.95 s
  s.repeats = 1;
  s.requests = 20;
  int64_t t0 = monotonic_ns();
  SweepResult r = run_sweep(*backend, s, nullptr, 0, 0);
  auto log = server.requests();
  ASSERT_EQ(log.size(), 20u);
  double span_s = (log.back().arrival_ns - log.front().arrival_ns) / 1e9;
  EXPECT_NEAR(span_s, 0.95, 0.25);
  EXPECT_GE((monotonic_ns() - t0) / 1e9, 0.9);
  const auto& lag = r.points[0].metrics["dispatch_lag_ms"];
  EXPECT_LT(lag["p50"].get<double>(), 5.0) << "the generator dispatches on time";
}

TEST(Sweep, ReplayedPromptsCycleAndKeepTheirOwnSampling) {
  LoopbackServer server;
  server.script([](const LoggedRequest& r, int) { return tokens_reply(r, 3); });
  auto backend = openai::make_openai_backend(options_for({server.base_url()}));
  auto set = std::make_shared<PromptSet>();
  set->name = "suite:test/chat";
  for (int i = 0; i < 3; ++i) {
    GenerationRequest r;
    r.id = "item" + std::to_string(i);
    r.messages = {{"system", "sys"}, {"user", "question " + std::to_string(i)}};
    r.sampling.max_tokens = 100;
    set->requests.push_back(r);
  }
  SweepOptions s = small_sweep();
  s.replay = set;
  s.shapes = {{0, 100, set->name}};
  s.loads = {{LoadKind::concurrency, 1, 1}};
  s.repeats = 1;
  s.requests = 7;
  SweepResult r = run_sweep(*backend, s, nullptr, 0, 0);
  ASSERT_EQ(r.points.size(), 1u);
  EXPECT_EQ(r.points[0].shape.str(), "suite:test/chat");
  EXPECT_EQ(r.points[0].metrics["ok"], 7);
  EXPECT_EQ(r.points[0].metrics["output_length_mismatch"], 0) << "real output lengths are not checked";
  auto log = server.requests();
  ASSERT_EQ(log.size(), 7u);
  for (size_t i = 0; i < log.size(); ++i) {
    EXPECT_EQ(log[i].last_user_content(), "question " + std::to_string(i % 3));
    EXPECT_EQ(log[i].json["max_tokens"], 100);
    EXPECT_FALSE(log[i].json.contains("ignore_eos"));
  }
}

// The server answers /health (io thread) a moment before its main thread logs "listening on".
void wait_for_log_line(const std::string& path, const std::string& text) {
  for (int i = 0; i < 300; ++i) {
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    if (ss.str().find(text) != std::string::npos) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

TEST(LaunchedServer, CommandThatExitsAtOnceFailsWithItsLog) {
  TempDir dir;
  LaunchOptions lo;
  lo.command = "echo 'model file missing' >&2; exit 3";
  lo.url = "http://127.0.0.1:" + std::to_string(hb::testing::free_port()) + "/v1";
  lo.log_path = (dir.path / "server.log").string();
  LaunchedServer s(lo);
  try {
    s.start();
    FAIL() << "must throw";
  } catch (const hb::Error& e) {
    EXPECT_NE(e.message().find("exited with code 3"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("model file missing"), std::string::npos) << e.message();
  }
}

TEST(LaunchedServer, NeverHealthyTimesOutAndIsStopped) {
  TempDir dir;
  LaunchOptions lo;
  lo.command = "echo loading; exec sleep 30";
  lo.url = "http://127.0.0.1:" + std::to_string(hb::testing::free_port()) + "/v1";
  lo.log_path = (dir.path / "server.log").string();
  lo.ready_timeout_s = 0.8;
  lo.stop_grace_s = 2;
  LaunchedServer s(lo);
  int64_t t0 = monotonic_ns();
  try {
    s.start();
    FAIL() << "must throw";
  } catch (const hb::Error& e) {
    EXPECT_NE(e.message().find("within 0.8 s"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("loading"), std::string::npos) << e.message();
  }
  EXPECT_FALSE(s.running()) << "the server is stopped after the timeout";
  EXPECT_LT((monotonic_ns() - t0) / 1e9, 10.0);
}

TEST(LaunchedServer, HealthyServerServesASweepAndIsStopped) {
  const std::string bin = std::string(HB_BINARY_DIR) + "/hb_loopback_server";
  if (!fs::exists(bin)) GTEST_SKIP() << bin << " not built";
  TempDir dir;
  int port = hb::testing::free_port();
  LaunchOptions lo;
  lo.command = "exec " + bin + " --port " + std::to_string(port) + " --mode schedule --tokens 4";
  lo.url = "http://127.0.0.1:" + std::to_string(port) + "/v1";
  lo.log_path = (dir.path / "server.log").string();
  lo.ready_timeout_s = 10;
  LaunchedServer s(lo);
  s.start();
  ASSERT_TRUE(s.running());
  int pid = s.pid();
  {
    auto backend = openai::make_openai_backend(options_for({lo.url}));
    SweepOptions o = small_sweep();
    o.loads = {{LoadKind::concurrency, 2, 1}};
    o.repeats = 1;
    o.requests = 4;
    SweepResult r = run_sweep(*backend, o, nullptr, 0, 0, [&] { s.check_alive(); });
    EXPECT_EQ(r.points[0].metrics["ok"], 4);
  }
  s.stop();
  EXPECT_FALSE(s.running());
  EXPECT_NE(::kill(pid, 0), 0) << "the process is gone";
}

TEST(LaunchedServer, DeathDuringTheRunIsReported) {
  const std::string bin = std::string(HB_BINARY_DIR) + "/hb_loopback_server";
  if (!fs::exists(bin)) GTEST_SKIP() << bin << " not built";
  TempDir dir;
  int port = hb::testing::free_port();
  LaunchOptions lo;
  lo.command = "exec " + bin + " --port " + std::to_string(port);
  lo.url = "http://127.0.0.1:" + std::to_string(port) + "/v1";
  lo.log_path = (dir.path / "server.log").string();
  LaunchedServer s(lo);
  s.start();
  ASSERT_NO_THROW(s.check_alive());
  wait_for_log_line(lo.log_path, "listening on");
  ::kill(s.pid(), SIGKILL);
  auto deadline = monotonic_ns() + 5'000'000'000LL;
  while (s.running() && monotonic_ns() < deadline) std::this_thread::sleep_for(10ms);
  try {
    s.check_alive();
    FAIL() << "must throw";
  } catch (const hb::Error& e) {
    EXPECT_NE(e.message().find("died during the run"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("listening on"), std::string::npos) << "log tail: " << e.message();
  }
}

}  // namespace
}  // namespace hb::load

namespace hb::load {
namespace {

TEST(LaunchedBackend, ServesWhileTheServerRunsThenFailsFastAndStopsIt) {
  const std::string bin = std::string(HB_BINARY_DIR) + "/hb_loopback_server";
  if (!fs::exists(bin)) GTEST_SKIP() << bin << " not built";
  TempDir dir;
  int port = hb::testing::free_port();
  LaunchOptions lo;
  lo.command = "exec " + bin + " --port " + std::to_string(port);
  lo.url = "http://127.0.0.1:" + std::to_string(port) + "/v1";
  lo.log_path = (dir.path / "server.log").string();
  auto server = std::make_unique<LaunchedServer>(lo);
  server->start();
  int pid = server->pid();
  auto backend = make_launched_backend(std::move(server), openai::make_openai_backend(options_for({lo.url})));
  auto info = backend->describe();
  EXPECT_EQ(info.kind, "launch");
  EXPECT_EQ(info.details["launch"]["pid"], pid);
  auto once = [&] {
    auto p = std::make_shared<std::promise<GenerationResult>>();
    auto f = p->get_future();
    GenerationRequest r;
    r.messages = {{"user", "hi"}};
    backend->submit(r, [p](GenerationResult res) { p->set_value(std::move(res)); });
    return f.get();
  };
  EXPECT_TRUE(once().ok());
  wait_for_log_line(lo.log_path, "listening on");
  ::kill(pid, SIGKILL);
  GenerationResult dead;
  for (int i = 0; i < 300; ++i) {  // until the death is noticed (a request in between may fail to connect)
    dead = once();
    if (dead.error && dead.error->kind == "server_died") break;
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_FALSE(dead.ok());
  EXPECT_EQ(dead.error->kind, "server_died");
  EXPECT_NE(dead.error->message.find("listening on"), std::string::npos) << dead.error->message;
  backend.reset();
  EXPECT_NE(::kill(pid, 0), 0);
}

}  // namespace
}  // namespace hb::load
