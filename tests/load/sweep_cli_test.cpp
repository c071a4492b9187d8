// `hybench sweep` end to end: the hybench binary against hb_loopback_server (schedule mode): JSON out,
// points in the DB, resume, the SLO searches (`--concurrency auto`, `--rate auto`), and usage errors with
// exit code 2 for bad shapes, rates, burstiness, SLOs and search bounds.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "harness/store/sqlite.h"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string kBin = HB_BINARY_DIR;

std::string fmt(const char* format, double v) {
  char buf[256];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

struct Result {
  int code = -1;
  std::string out;  // stdout + stderr
};

Result sh(const std::string& cmd) {
  Result r;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class SweepCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kBin + "/hybench") || !fs::exists(kBin + "/hb_loopback_server"))
      GTEST_SKIP() << "hybench or hb_loopback_server not built in " << kBin;
    char tmpl[] = "/tmp/hb_sweep_cli_XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    start_server({"--first-token-ms", "50", "--itl-ms", "5", "--tokens", "16"});
  }
  void TearDown() override {
    stop_server();
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  // (Re)starts the schedule-mode server with these pacing arguments.
  void start_server(const std::vector<std::string>& pacing) {
    stop_server();
    fs::remove(dir_ / "port");
    std::vector<std::string> args{kBin + "/hb_loopback_server", "--port-file", (dir_ / "port").string(), "--log",
                                  (dir_ / "requests.log").string(), "--mode", "schedule"};
    args.insert(args.end(), pacing.begin(), pacing.end());
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    for (int i = 0; i < 500 && !fs::exists(dir_ / "port"); ++i) std::this_thread::sleep_for(10ms);
    std::ifstream f(dir_ / "port");
    f >> port_;
    ASSERT_GT(port_, 0);
  }
  void stop_server() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
  }
  std::string sweep(const std::string& extra) {
    return kBin + "/hybench sweep --model openai:http://127.0.0.1:" + std::to_string(port_) +
           "/v1 --model-name loop --db " + (dir_ / "h.db").string() + " " + extra;
  }
  size_t logged_requests() {
    std::ifstream f(dir_ / "requests.log");
    size_t n = 0;
    std::string line;
    while (std::getline(f, line)) n += !line.empty();
    return n;
  }
  fs::path dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

TEST_F(SweepCli, RunsStoresWritesJsonAndResumes) {
  std::string json_path = (dir_ / "out.json").string();
  Result r = sh(sweep("--shape 10:16 --concurrency 2,4 --requests 8 --warmup 2 --slo ttft_ms=1000 --run cli --json " + json_path));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("concurrency=4"), std::string::npos) << r.out;
  std::ifstream f(json_path);
  auto j = nlohmann::json::parse(f);
  EXPECT_EQ(j["schema_version"], 1);
  ASSERT_EQ(j["points"].size(), 2u);
  const auto& p = j["points"][1];
  EXPECT_EQ(p["model"], "loop");
  EXPECT_EQ(p["shape"], "10:16");
  EXPECT_EQ(p["concurrency"], 4);
  EXPECT_EQ(p["requests"], 8);
  EXPECT_EQ(p["errors"], 0);
  for (const char* k : {"ttft_ms", "tpot_ms", "itl_ms", "e2e_ms"})
    for (const char* q : {"mean", "p50", "p90", "p95", "p99"}) EXPECT_TRUE(p[k][q].is_number()) << k << "." << q;
  EXPECT_GT(p["output_tok_per_s"].get<double>(), 0);
  EXPECT_GT(p["request_per_s"].get<double>(), 0);
  EXPECT_TRUE(p["goodput_req_per_s"].is_number());
  EXPECT_TRUE(p["client_cpu_us_per_token"].is_number());
  // The server's schedule: first token at 50 ms, then every 5 ms (wide bounds: a loaded 2-core machine).
  EXPECT_NEAR(p["ttft_ms"]["p50"].get<double>(), 50, 15);
  EXPECT_NEAR(p["itl_ms"]["p50"].get<double>(), 5, 2);
  EXPECT_EQ(logged_requests(), 2u * (8 + 2));
  // The same command again: every point is finished, nothing is requested.
  Result again = sh(sweep("--shape 10:16 --concurrency 2,4 --requests 8 --warmup 2 --slo ttft_ms=1000 --run cli"));
  ASSERT_EQ(again.code, 0) << again.out;
  EXPECT_NE(again.out.find("already finished"), std::string::npos) << again.out;
  EXPECT_EQ(logged_requests(), 20u);
  // Another configuration under the same run name is refused.
  Result other = sh(sweep("--shape 10:16 --concurrency 3 --requests 8 --run cli"));
  EXPECT_EQ(other.code, 2) << other.out;
}

TEST_F(SweepCli, BadInputIsAUsageErrorWithExitCode2) {
  struct Case {
    const char* args;
    const char* says;
  } cases[] = {
      {"--shape 10x16 --concurrency 2", "'10x16' is not IN:OUT"},
      {"--shape 10:16 --concurrency 0", "'0' is not a positive integer"},
      {"--shape 10:16 --rate fast", "'fast' is not a positive number"},
      {"--shape 10:16 --rate 2 --burstiness -1", "--burstiness -1"},
      {"--shape 10:16 --concurrency 2 --slo ttft=5", "unknown key 'ttft'"},
      {"--shape 10:16 --concurrency 2 --rate 1", "exactly one of --concurrency"},
      {"--shape 10:16", "exactly one of --concurrency"},
      {"--shape 10:16 --concurrency 2 --repeats 0", "--repeats 0"},
      {"--shape 10:16 --concurrency auto", "auto searches the highest load meeting SLOs"},
      {"--shape 10:16 --rate auto --slo ttft_p99=100 --auto-start 0", "--auto-start 0 must be > 0"},
      {"--shape 10:16 --concurrency 2 --slo ttft_p99=100,tpot_p95=5", "p99 and p95 differ"},
      // The SLO searches: no SLO, an unparseable one, auto in a list of levels, bounds that are no load (an
      // infinite or NaN --auto-max doubled the probes forever, 0.3 streams probed concurrency 0 and hung).
      {"--shape 10:16 --rate auto", "--rate auto searches the highest load meeting SLOs: give them"},
      {"--shape 10:16 --rate auto --slo ttft_p99", "'ttft_p99' is not KEY=MILLISECONDS"},
      {"--shape 10:16 --rate auto --slo ttft_p99=fast", "'ttft_p99=fast' is not KEY=MILLISECONDS"},
      {"--shape 10:16 --rate auto --slo ttft_p99=500,tpot=5", "unknown key 'tpot'"},
      {"--shape 10:16 --rate auto,2 --slo ttft_p99=500", "--rate 'auto,2': 'auto' searches the highest load meeting --slo "
                                                         "by itself; give --rate auto alone"},
      {"--shape 10:16 --rate 1,auto --slo ttft_p99=500", "give --rate auto alone"},
      {"--shape 10:16 --concurrency auto,4 --slo ttft_p99=500", "give --concurrency auto alone"},
      {"--shape 10:16 --rate auto --concurrency 2 --slo ttft_p99=500", "exactly one of --concurrency"},
      {"--shape 10:16 --rate auto --slo ttft_p99=500 --auto-max inf", "--auto-max inf must be > 0"},
      {"--shape 10:16 --rate auto --slo ttft_p99=500 --auto-max nan", "--auto-max nan must be > 0"},
      {"--shape 10:16 --rate auto --slo ttft_p99=500 --auto-max -4", "--auto-max -4 must be > 0"},
      {"--shape 10:16 --concurrency auto --slo ttft_p99=500 --auto-start 0.3", "--auto-start 0.3 must be a whole number"},
      {"--shape 10:16 --rate 2 --auto-max 8", "--auto-start and --auto-max bound the search"},
  };
  for (const auto& c : cases) {
    Result r = sh("timeout 60 " + sweep(c.args));
    EXPECT_EQ(r.code, 2) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.says), std::string::npos) << c.args << "\n" << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << "one line: " << c.args << "\n" << r.out;
  }
  EXPECT_FALSE(fs::exists(dir_ / "h.db")) << "nothing is stored for a command that cannot run";
  EXPECT_EQ(logged_requests(), 0u);
}

// --concurrency auto end to end: every probe stored and in the JSON, the answer with its neighbours, exit 1
// when even one stream misses the SLO.
TEST_F(SweepCli, AutoConcurrencyFindsTheHighestLoadMeetingTheSlo) {
  std::string json_path = (dir_ / "auto.json").string();
  Result r = sh(sweep("--shape 10:16 --concurrency auto --auto-max 4 --requests 8 --slo ttft_p99=5000,e2e_p99=9000 "
                      "--run auto --json " + json_path));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("slo search 10:16: highest concurrency meeting TTFT <= 5000 ms, E2E <= 9000 ms at p99: 4"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("raise --auto-max"), std::string::npos) << r.out;
  std::ifstream f(json_path);
  auto j = nlohmann::json::parse(f);
  ASSERT_EQ(j["slo_search"].size(), 1u);
  EXPECT_EQ(j["slo_search"][0]["best"]["concurrency"], 4);
  EXPECT_EQ(j["slo_search"][0]["below"]["concurrency"], 2);
  EXPECT_TRUE(j["slo_search"][0]["capped"].get<bool>());
  EXPECT_EQ(j["points"].size(), 3u) << "probes 1, 2, 4";
  for (const auto& p : j["points"]) EXPECT_EQ(p["slo_met"], true);
  EXPECT_EQ(logged_requests(), 24u);
  Result none = sh(sweep("--shape 10:16 --concurrency auto --requests 4 --slo ttft_p99=1 --run none"));
  EXPECT_EQ(none.code, 1) << none.out;
  EXPECT_NE(none.out.find("no concurrency meets TTFT <= 1 ms at p99"), std::string::npos) << none.out;
}

// --rate auto end to end against a load-dependent server (each token gap grows 2 ms per other answer in
// flight, so TPOT <= 11 ms holds while at most 5 answers overlap and open-loop arrivals above ~15 req/s
// break it): every probe is a stored point, the reported rate meets the SLO in its stored point, the
// neighbour above misses it, a second run resumes without a request, and no load meeting the SLO is exit 1.
TEST_F(SweepCli, AutoRateFindsTheHighestRateMeetingTheSlo) {
  start_server({"--first-token-ms", "10", "--itl-ms", "2", "--itl-ms-per-stream", "2", "--tokens", "16"});
  const std::string args = "--shape 10:16 --rate auto --auto-start 8 --requests 20 --slo tpot_p99=11 --run rate";
  std::string json_path = (dir_ / "rate.json").string();
  Result r = sh(sweep(args + " --json " + json_path));
  ASSERT_EQ(r.code, 0) << r.out;
  std::ifstream f(json_path);
  auto j = nlohmann::json::parse(f);
  ASSERT_EQ(j["slo_search"].size(), 1u);
  const auto& s = j["slo_search"][0];
  ASSERT_TRUE(s["best"].is_object()) << s.dump(1);
  ASSERT_TRUE(s["above"].is_object()) << "a failing rate exists below --auto-max 1000: " << s.dump(1);
  EXPECT_FALSE(s["capped"].get<bool>());
  const double best = s["best"]["rate"], above = s["above"]["rate"];
  EXPECT_TRUE(s["best"]["pass"].get<bool>());
  EXPECT_FALSE(s["above"]["pass"].get<bool>());
  EXPECT_LT(best, above);
  EXPECT_LE(above / best, 1.11) << "bisected to 10%";
  if (s["below"].is_object()) EXPECT_LT(s["below"]["rate"].get<double>(), best);
  EXPECT_NE(r.out.find(fmt("slo search 10:16: highest rate meeting TPOT <= 11 ms at p99: %g (", best)), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(fmt("; above %g (", above)), std::string::npos) << r.out;

  // Every probe is a stored, finished point of the run, and the JSON has each once.
  const size_t probes = s["probes"].size();
  EXPECT_GE(probes, 3u);
  EXPECT_EQ(j["points"].size(), probes);
  EXPECT_EQ(logged_requests(), 20 * probes);
  hb::store::Db db((dir_ / "h.db").string(), hb::store::Db::Mode::read_only);
  auto q = db.prepare("SELECT COUNT(*), COUNT(DISTINCT load_value), SUM(status = 'finished'), SUM(load_kind = 'rate') "
                      "FROM perf_points");
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.int64(0), static_cast<int64_t>(probes));
  EXPECT_EQ(q.int64(1), static_cast<int64_t>(probes));
  EXPECT_EQ(q.int64(2), static_cast<int64_t>(probes));
  EXPECT_EQ(q.int64(3), static_cast<int64_t>(probes));
  for (const auto& p : s["probes"]) {
    auto one = db.prepare("SELECT COUNT(*) FROM perf_points WHERE load_value = ?");
    one.bind(1, p["rate"].get<double>());
    ASSERT_TRUE(one.step());
    EXPECT_EQ(one.int64(0), 1) << "probe at rate " << p["rate"];
  }
  // The stored measurements decide: at the best rate every request met TPOT <= 11 ms; above it one did not.
  auto stored = [&](double rate) {
    auto m = db.prepare("SELECT metrics_json FROM perf_points WHERE load_value = ?");
    m.bind(1, rate);
    EXPECT_TRUE(m.step());
    return nlohmann::json::parse(m.text(0));
  };
  auto at_best = stored(best), at_above = stored(above);
  EXPECT_EQ(at_best["slo_met"], true);
  EXPECT_EQ(at_best["errors"], 0);
  EXPECT_GE(at_best["slo_attainment"].get<double>(), 0.99);
  EXPECT_LE(at_best["tpot_ms"]["max"].get<double>(), 11.0) << at_best["tpot_ms"].dump();
  EXPECT_EQ(at_above["slo_met"], false);
  EXPECT_LT(at_above["slo_attainment"].get<double>(), 0.99);
  EXPECT_GT(at_above["tpot_ms"]["max"].get<double>(), 11.0) << at_above["tpot_ms"].dump();

  // The same search again resumes every probe: nothing is requested and the answer is the same.
  Result again = sh(sweep(args));
  ASSERT_EQ(again.code, 0) << again.out;
  EXPECT_EQ(logged_requests(), 20 * probes);
  EXPECT_NE(again.out.find(fmt("at p99: %g (", best)), std::string::npos) << again.out;

  // No rate meets TTFT <= 1 ms (the first token comes after 10 ms), and at 0.04 req/s the requests already
  // ran alone (0.04 x ~0.05 s in flight): no lower rate is probed (each would take twice as long, down to 0.01
  // req/s), the probe is stored, and the sweep exits 1 saying why (docs/NIGHTLY.md).
  Result none = sh(sweep("--shape 10:16 --rate auto --auto-start 0.04 --requests 1 --slo ttft_p99=1 --run none"));
  EXPECT_EQ(none.code, 1) << none.out;
  EXPECT_NE(none.out.find("no rate meets TTFT <= 1 ms at p99 (lowest probe 0.04 "), std::string::npos) << none.out;
  EXPECT_NE(none.out.find("requests running alone already miss it"), std::string::npos) << none.out;
  hb::store::Db after((dir_ / "h.db").string(), hb::store::Db::Mode::read_only);  // db's statements hold a snapshot
  auto n = after.prepare("SELECT COUNT(*) FROM perf_points p JOIN runs r ON r.id = p.run_id WHERE r.name = 'none'");
  ASSERT_TRUE(n.step());
  EXPECT_EQ(n.int64(0), 1) << "one probe: 0.04";
}

TEST_F(SweepCli, DeadServerIsCountedNotACrash) {
  stop_server();
  Result r = sh(sweep("--shape 10:16 --concurrency 2 --requests 4 --connect-timeout 1"));
  EXPECT_EQ(r.code, 3) << "every request failed: the run failed\n" << r.out;
  EXPECT_NE(r.out.find("every request failed"), std::string::npos) << r.out;
}

}  // namespace
