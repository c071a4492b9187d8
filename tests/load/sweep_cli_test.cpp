// `hybench sweep` end to end: the hybench binary against hb_loopback_server (schedule mode): JSON out,
// points in the DB, resume, and usage errors with exit code 2 for bad shapes, rates, burstiness, SLOs.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const std::string kBin = HB_BINARY_DIR;

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
    pid_ = ::fork();
    if (pid_ == 0) {
      std::string port_file = (dir_ / "port").string(), log = (dir_ / "requests.log").string();
      ::execl((kBin + "/hb_loopback_server").c_str(), "hb_loopback_server", "--port-file", port_file.c_str(), "--log",
              log.c_str(), "--mode", "schedule", "--first-token-ms", "50", "--itl-ms", "5", "--tokens", "16",
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 500 && !fs::exists(dir_ / "port"); ++i) std::this_thread::sleep_for(10ms);
    std::ifstream f(dir_ / "port");
    f >> port_;
    ASSERT_GT(port_, 0);
  }
  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
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
  };
  for (const auto& c : cases) {
    Result r = sh(sweep(c.args));
    EXPECT_EQ(r.code, 2) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.says), std::string::npos) << c.args << "\n" << r.out;
  }
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

TEST_F(SweepCli, DeadServerIsCountedNotACrash) {
  ::kill(pid_, SIGTERM);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
  Result r = sh(sweep("--shape 10:16 --concurrency 2 --requests 4 --connect-timeout 1"));
  EXPECT_EQ(r.code, 3) << "every request failed: the run failed\n" << r.out;
  EXPECT_NE(r.out.find("every request failed"), std::string::npos) << r.out;
}

}  // namespace
