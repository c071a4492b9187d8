// hybench eval over all of GSM8K against the loopback server, killed with SIGKILL halfway and resumed:
// exactly one sample per item at the end, and the second run requests only what was missing.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "child_process.h"
#include "harness/base/files.h"
#include "harness/store/sqlite.h"
#include "tests/support/free_port.h"

namespace hb::test {
namespace {

namespace fs = std::filesystem;

class EvalEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("hb_e2e_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    server_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{std::string(HB_BINARY_DIR) + "/hb_loopback_server", "--port-file", path("port"), "--log",
                                 path("requests.log"), "--first-token-ms", "30", "--itl-ms", "3"},
        path("server.out"), path("server.err"));
    for (int i = 0; i < 500 && !fs::exists(path("port")); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE(fs::exists(path("port"))) << read_file(path("server.err"));
    url_ = "openai:http://127.0.0.1:" + std::string(trim_nl(read_file(path("port")))) + "/v1";
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }
  static std::string trim_nl(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::vector<std::string> eval_args(const std::string& extra_limit = "") const {
    std::vector<std::string> a{std::string(HB_BINARY_DIR) + "/hybench", "eval", "--model", url_, "--model-name", "loop",
                               "--suite", "gsm8k", "--data-dir", HB_TEST_DATASETS_DIR, "--db", path("r.db"), "--run",
                               "nightly", "--concurrency", "64"};
    if (!extra_limit.empty()) {
      a.push_back("--limit");
      a.push_back(extra_limit);
    }
    return a;
  }
  int64_t count(const std::string& sql, const std::string& file = "r.db") const {
    store::Db db(path(file), store::Db::Mode::read_only);
    auto q = db.prepare(sql);
    return q.step() ? q.int64(0) : -1;
  }
  std::vector<std::string> requested_questions(size_t from_line) const {
    std::vector<std::string> out;
    std::ifstream in(path("requests.log"));
    std::string line;
    size_t n = 0;
    while (std::getline(in, line)) {
      if (n++ < from_line) continue;
      auto j = nlohmann::json::parse(line);
      out.push_back(j.at("last_user").get<std::string>());
    }
    return out;
  }
  fs::path dir_;
  std::unique_ptr<ChildProcess> server_;
  std::string url_;
};

TEST_F(EvalEndToEnd, KilledHalfwayAndResumedEndsWithExactlyOneSamplePerItem) {
  {
    ChildProcess eval(eval_args(), path("eval1.out"), path("eval1.err"));
    // Wait until a good part of the run is stored, then kill it without warning.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    int64_t stored = 0;
    while (std::chrono::steady_clock::now() < deadline && eval.running()) {
      if (fs::exists(path("r.db"))) {
        try {
          stored = count("SELECT COUNT(*) FROM samples");
        } catch (...) {
        }
      }
      if (stored >= 400) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_TRUE(eval.running()) << "the run finished before it could be killed; stored " << stored;
    eval.kill_hard();
    eval.wait(10);
  }
  const int64_t after_kill = count("SELECT COUNT(*) FROM samples");
  ASSERT_GT(after_kill, 0);
  ASSERT_LT(after_kill, 1319);
  std::set<std::string> stored_ids;
  {
    store::Db db(path("r.db"), store::Db::Mode::read_only);
    auto q = db.prepare("SELECT prompt_json FROM samples");
    while (q.step()) stored_ids.insert(nlohmann::json::parse(q.text(0))["messages"].back()["content"].get<std::string>());
  }
  const size_t log_lines_before = requested_questions(0).size();

  int rc = run_program(eval_args(), path("eval2.out"), path("eval2.err"), 300);
  ASSERT_EQ(rc, 0) << read_file(path("eval2.err"));
  EXPECT_EQ(count("SELECT COUNT(*) FROM samples"), 1319);
  EXPECT_EQ(count("SELECT COUNT(DISTINCT item_id) FROM samples"), 1319);
  EXPECT_EQ(count("SELECT COUNT(*) FROM samples WHERE error_kind IS NOT NULL"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM runs"), 1);

  // The second run asked for exactly the items that were not stored: none twice, none already done.
  auto second = requested_questions(log_lines_before);
  EXPECT_EQ(second.size(), static_cast<size_t>(1319 - after_kill));
  std::set<std::string> unique(second.begin(), second.end());
  EXPECT_EQ(unique.size(), second.size());
  for (const auto& q : second) EXPECT_FALSE(stored_ids.count(q)) << "requested again although stored";

  std::string out = read_file(path("eval2.out"));
  EXPECT_NE(out.find("accuracy/strict"), std::string::npos);
  EXPECT_NE(out.find("1319"), std::string::npos);
  EXPECT_NE(read_file(path("eval2.err")).find("resuming"), std::string::npos);
}

TEST_F(EvalEndToEnd, ResumingWithOtherResultAffectingOptionsIsRefused) {
  ASSERT_EQ(run_program(eval_args("5"), path("a.out"), path("a.err"), 60), 0) << read_file(path("a.err"));
  auto args = eval_args("5");
  args.push_back("--temperature");
  args.push_back("0.7");
  EXPECT_EQ(run_program(args, path("b.out"), path("b.err"), 60), 2);
  EXPECT_NE(read_file(path("b.err")).find("another configuration"), std::string::npos) << read_file(path("b.err"));
  EXPECT_EQ(count("SELECT COUNT(*) FROM samples"), 5);
}

TEST_F(EvalEndToEnd, ReportWritesSummaryFiles) {
  ASSERT_EQ(run_program(eval_args("20"), path("a.out"), path("a.err"), 60), 0) << read_file(path("a.err"));
  int rc = run_program({std::string(HB_BINARY_DIR) + "/hybench", "report", "--db", path("r.db"), "--out", path("rep")},
                       path("r.out"), path("r.err"), 60);
  ASSERT_EQ(rc, 0) << read_file(path("r.err"));
  auto j = nlohmann::json::parse(read_file(path("rep/summary.json")));
  EXPECT_EQ(j["schema_version"], 2);
  std::set<std::string> metrics;
  for (const auto& row : j["rows"]) {
    EXPECT_EQ(row["run"], "nightly");
    EXPECT_EQ(row["model"], "loop");
    EXPECT_EQ(row["suite"], "gsm8k");
    EXPECT_EQ(row["n"], 20);
    metrics.insert(row["metric"].get<std::string>());
  }
  EXPECT_EQ(metrics, (std::set<std::string>{"accuracy/strict", "accuracy/flexible", "truncation_rate"}));
  EXPECT_TRUE(fs::exists(path("rep/summary.md")));
}

TEST_F(EvalEndToEnd, LaunchedServerIsStartedUsedAndStopped) {
  const int port = hb::testing::free_port();
  std::string cmd = std::string(HB_BINARY_DIR) + "/hb_loopback_server --port " + std::to_string(port) + " --log " + path("launched.log");
  std::vector<std::string> args{std::string(HB_BINARY_DIR) + "/hybench", "eval", "--model", "launch:" + cmd,
                                "--launch-url", "http://127.0.0.1:" + std::to_string(port) + "/v1", "--suite", "gsm8k",
                                "--limit", "3", "--data-dir", HB_TEST_DATASETS_DIR, "--db", path("l.db")};
  ASSERT_EQ(run_program(args, path("l.out"), path("l.err"), 120), 0) << read_file(path("l.err"));
  EXPECT_TRUE(fs::exists(path("l.db.server.log")));
  std::string err = read_file(path("l.err"));
  EXPECT_NE(err.find("server healthy"), std::string::npos) << err;
  EXPECT_NE(err.find("server stopped"), std::string::npos) << err;
  // Nothing listens any more.
  auto again = args;
  again[3] = "openai:http://127.0.0.1:" + std::to_string(port) + "/v1";
  again.erase(again.begin() + 4, again.begin() + 6);
  again.push_back("--max-attempts");
  again.push_back("1");
  EXPECT_EQ(run_program(again, path("m.out"), path("m.err"), 120), 3) << read_file(path("m.err"));
}

TEST_F(EvalEndToEnd, LaunchCommandThatExitsAtOnceFailsTheRunWithItsLog) {
  std::vector<std::string> args{std::string(HB_BINARY_DIR) + "/hybench", "eval", "--model",
                                "launch:echo broken config >&2; exit 3", "--launch-url", "http://127.0.0.1:9/v1",
                                "--suite", "gsm8k", "--limit", "3", "--data-dir", HB_TEST_DATASETS_DIR, "--db", path("x.db")};
  EXPECT_EQ(run_program(args, path("x.out"), path("x.err"), 60), 3);
  std::string err = read_file(path("x.err"));
  EXPECT_NE(err.find("exited with code 3"), std::string::npos) << err;
  EXPECT_NE(err.find("broken config"), std::string::npos) << err;
}

TEST_F(EvalEndToEnd, NativeSweepSendsExactLengthPrompts) {
  std::vector<std::string> args{std::string(HB_BINARY_DIR) + "/hybench", "sweep", "--model", "native:preset:tiny/h30",
                                "--shape", "24:4", "--concurrency", "2", "--requests", "3", "--db", path("s.db"),
                                "--json", path("s.json")};
  int rc = run_program(args, path("s.out"), path("s.err"), 300);
  if (read_file(path("s.err")).find("without the native engine") != std::string::npos) GTEST_SKIP() << "no engine";
  ASSERT_EQ(rc, 0) << read_file(path("s.err"));
  EXPECT_EQ(count("SELECT COUNT(*) FROM request_traces", "s.db"), 3);
  store::Db db(path("s.db"), store::Db::Mode::read_only);
  auto q = db.prepare("SELECT prompt_tokens, completion_tokens FROM request_traces");
  int rows = 0;
  while (q.step()) {
    ++rows;
    EXPECT_EQ(q.int64(0), 24) << "the prompt is exactly IN tokens";
    EXPECT_EQ(q.int64(1), 4) << "the output length is forced";
  }
  EXPECT_EQ(rows, 3);
  auto j = nlohmann::json::parse(read_file(path("s.json")));
  EXPECT_TRUE(j["points"][0]["client_cpu_us_per_token"].is_null()) << "in-process engine: no client CPU figure";
}

}  // namespace
}  // namespace hb::test
