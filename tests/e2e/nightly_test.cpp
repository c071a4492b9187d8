// The nightly recipe of docs/NIGHTLY.md end to end: evals and sweeps of two models into one run per night
// against the loopback server, `compare --base previous` with its exit codes (0 the same server, 1 a server
// five times slower, 2 nothing to compare), `--base DATE`, and each part resuming on its own; the same
// parts for a night run by `hybench run STUDY.json`.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

#include "child_process.h"
#include "e2e_fixture.h"
#include "harness/base/clock.h"
#include "harness/base/files.h"
#include "harness/store/sqlite.h"

namespace hb::test {
namespace {

namespace fs = std::filesystem;

class Nightly : public E2eTest {
 protected:
  // A schedule-mode server: first token after 10 ms, then a token every `itl_ms`.
  void start_server(int itl_ms) {
    url_ = "openai:" + start_loopback({"--log", path("requests.log"), "--mode", "schedule", "--first-token-ms", "10",
                                       "--itl-ms", std::to_string(itl_ms), "--tokens", "8"});
  }
  // The noise bands are wide: this shared 2-core machine's latency varies between "nights" by tens of
  // percent; the slow night is 5x slower.
  std::vector<std::string> compare(const std::string& base, const std::string& head) const {
    return {"compare", "--base", base, "--head", head, "--min-band", "0.4", "--min-band-latency", "1.0"};
  }
  int hybench(std::vector<std::string> args, const std::string& tag) {
    args.insert(args.begin(), std::string(HB_BINARY_DIR) + "/hybench");
    args.push_back("--db");
    args.push_back(path("nightly.db"));
    last_err_ = path(tag + ".err");
    return run_program(args, path(tag + ".out"), last_err_, 120);
  }
  std::string err() const { return read_file(last_err_); }
  std::vector<std::string> eval(const std::string& model, const std::string& run) const {
    return {"eval", "--model", url_, "--model-name", model, "--suite", "gsm8k", "--limit", "8", "--data-dir",
            HB_TEST_DATASETS_DIR, "--run", run, "--concurrency", "8"};
  }
  std::vector<std::string> sweep(const std::string& model, const std::string& run) const {
    return {"sweep", "--model", url_, "--model-name", model, "--shape", "10:8", "--concurrency", "2",
            "--requests", "6", "--repeats", "5", "--run", run};
  }
  // One night: evals and sweeps of two models, all into `run`.
  void night(const std::string& run) {
    for (const char* model : {"h-a", "h-b"}) {
      ASSERT_EQ(hybench(eval(model, run), run + "-eval-" + model), 0) << err();
      ASSERT_EQ(hybench(sweep(model, run), run + "-sweep-" + model), 0) << err();
    }
  }
  std::string query(const std::string& sql) const {
    store::Db db(path("nightly.db"), store::Db::Mode::read_only);
    auto q = db.prepare(sql);
    return q.step() ? q.text(0) : "";
  }
  size_t logged_requests() const {
    std::ifstream f(path("requests.log"));
    size_t n = 0;
    std::string line;
    while (std::getline(f, line)) n += !line.empty();
    return n;
  }
  // Lines of the server's request log whose "model" is `model`.
  size_t logged_requests_of(const std::string& model) const {
    std::ifstream f(path("requests.log"));
    size_t n = 0;
    std::string line;
    while (std::getline(f, line))
      if (!line.empty()) n += nlohmann::json::parse(line).value("model", "") == model;
    return n;
  }
  // A nightly study: `models` x gsm8k (first `limit` items), and a sweep of every model (2 repeats of 6).
  std::string write_study(const std::vector<std::string>& models, int limit, const std::string& suite_extra = "") {
    nlohmann::json study = nlohmann::json::parse(R"({"schema_version": 1, "name": "nightly", "models": [],
        "throughput": [{"shape": "10:8", "concurrency": [2], "requests": 6, "warmup": 0, "repeats": 2}]})");
    for (const auto& m : models)
      study["models"].push_back({{"name", m}, {"spec", m == "h-dead" ? "openai:http://127.0.0.1:9/v1" : url_}});
    nlohmann::json suite = {{"suite", "gsm8k"}, {"limit", limit}};
    if (!suite_extra.empty()) suite.update(nlohmann::json::parse(suite_extra));
    study["suites"] = {suite};
    std::ofstream(path("nightly.json")) << study.dump(2);
    return path("nightly.json");
  }
  std::vector<std::string> run_study(const std::string& run) const {
    return {"run", path("nightly.json"), "--run", run, "--data-dir", HB_TEST_DATASETS_DIR, "--no-report"};
  }
  std::string parts() const {
    return query("SELECT group_concat(part_key || ' ' || status, ', ') FROM "
                 "(SELECT part_key, status FROM run_parts ORDER BY part_key)");
  }
  std::string url_, last_err_;
};

TEST_F(Nightly, OneRunPerNightComparedWithThePreviousNight) {
  start_server(2);
  night("nightly-2026-12-01");
  EXPECT_EQ(query("SELECT COUNT(*) FROM runs"), "1") << "evals and sweeps of both models share one run";
  EXPECT_EQ(query("SELECT kind || ' ' || status FROM runs"), "mixed finished");
  EXPECT_EQ(query("SELECT group_concat(part_key, ' ') FROM (SELECT part_key FROM run_parts ORDER BY part_key)"),
            "eval/h-a/gsm8k eval/h-b/gsm8k sweep/h-a sweep/h-b");
  EXPECT_EQ(query("SELECT COUNT(*) FROM samples"), "16");
  EXPECT_EQ(query("SELECT COUNT(*) FROM perf_points WHERE status='finished'"), "10");

  // The first night has nothing to compare with: exit 2 with the reason.
  EXPECT_EQ(hybench(compare("previous", "nightly-2026-12-01"), "cmp0"), 2);
  EXPECT_NE(err().find("first run"), std::string::npos) << err();

  // Each part resumes on its own: the same eval again requests nothing; a changed one is refused.
  size_t before = logged_requests();
  EXPECT_EQ(hybench(eval("h-a", "nightly-2026-12-01"), "again"), 0) << err();
  EXPECT_EQ(logged_requests(), before);
  auto changed = eval("h-a", "nightly-2026-12-01");
  changed.insert(changed.end(), {"--temperature", "0.7"});
  EXPECT_EQ(hybench(changed, "changed"), 2);
  EXPECT_NE(err().find("part 'eval/h-a/gsm8k' with another configuration"), std::string::npos) << err();
  EXPECT_EQ(logged_requests(), before);

  night("nightly-2026-12-02");
  EXPECT_EQ(hybench(compare("previous", "nightly-2026-12-02"), "cmp1"), 0)
      << read_file(path("cmp1.out")) << err();
  EXPECT_NE(err().find("compare: base is 'nightly-2026-12-01'"), std::string::npos) << err();
  std::string out = read_file(path("cmp1.out"));
  EXPECT_NE(out.find("h-a | gsm8k"), std::string::npos) << out;
  EXPECT_NE(out.find("h-b | 10:8 | concurrency=2 | output_tok_per_s"), std::string::npos) << out;

  // A server five times slower: a throughput regression the test can call with 5 repeats (exit 1).
  start_server(10);
  night("nightly-2026-12-03");
  auto as_json = compare("previous", "nightly-2026-12-03");
  as_json.push_back("--json");
  EXPECT_EQ(hybench(as_json, "cmp2"), 1)
      << read_file(path("cmp2.out")) << err();
  EXPECT_NE(err().find("'nightly-2026-12-02'"), std::string::npos) << err();
  std::string json = read_file(path("cmp2.out"));
  EXPECT_NE(json.find("\"regression\": true"), std::string::npos) << json;
  EXPECT_NE(json.find("perf h-a 10:8 concurrency=2 output_tok_per_s"), std::string::npos) << json;
  // By date: every run here started today (UTC), so the last finished earlier one of the family is night 2.
  std::string today = utc_now_iso8601().substr(0, 10);
  EXPECT_EQ(hybench(compare(today, "nightly-2026-12-03"), "cmp3"), 1) << err();
  EXPECT_NE(err().find("base is 'nightly-2026-12-02'"), std::string::npos) << err();
  EXPECT_EQ(hybench(compare("1999-01-01", "nightly-2026-12-03"), "cmp4"), 2);
  EXPECT_NE(err().find("started on 1999-01-01"), std::string::npos) << err();
}

// `hybench run STUDY.json` keeps the same parts as separate commands: one per model x suite and one per
// model's sweep, each with its own configuration hash, so an edited suite is refused by its part alone, a
// grown study resumes only what is missing, `eval` can resume a study's part, and the run's status
// summarises its parts.
TEST_F(Nightly, StudyRunKeepsOnePartPerModelSuiteAndSweep) {
  start_server(2);
  const std::string run = "nightly-2026-12-04";
  write_study({"h-a", "h-b"}, 4);
  ASSERT_EQ(hybench(run_study(run), "s1"), 0) << err();
  EXPECT_EQ(query("SELECT kind || ' ' || status FROM runs"), "study finished");
  EXPECT_EQ(parts(), "eval/h-a/gsm8k finished, eval/h-b/gsm8k finished, sweep/h-a finished, sweep/h-b finished");
  EXPECT_EQ(logged_requests(), 2u * 4 + 2u * 12);

  // Again: every part resumes and requests nothing; `hybench eval` with the part's settings resumes it too.
  EXPECT_EQ(hybench(run_study(run), "s2"), 0) << err();
  EXPECT_EQ(logged_requests(), 32u);
  EXPECT_EQ(hybench({"eval", "--model", url_, "--model-name", "h-a", "--suite", "gsm8k", "--limit", "4", "--data-dir",
                     HB_TEST_DATASETS_DIR, "--run", run}, "e1"), 0) << err();
  EXPECT_EQ(logged_requests(), 32u);

  // An edited suite setting changes its parts' results: refused with exit 2 naming the part, nothing touched.
  const std::string hashes_sql = "SELECT group_concat(config_hash) FROM (SELECT config_hash FROM run_parts ORDER BY part_key)";
  const std::string hashes = query(hashes_sql);
  write_study({"h-a", "h-b"}, 4, R"({"temperature": 0.7})");
  EXPECT_EQ(hybench(run_study(run), "s3"), 2);
  EXPECT_NE(err().find("part 'eval/h-a/gsm8k' with another configuration"), std::string::npos) << err();
  EXPECT_EQ(logged_requests(), 32u);
  EXPECT_EQ(query(hashes_sql), hashes);
  EXPECT_EQ(query("SELECT status FROM runs"), "finished");

  // A larger limit and a third model: each part requests only what it lacks (2 items each for h-a and
  // h-b, their sweeps nothing; everything for h-c).
  write_study({"h-a", "h-b", "h-c"}, 6);
  ASSERT_EQ(hybench(run_study(run), "s4"), 0) << err();
  EXPECT_EQ(logged_requests_of("h-a"), 4u + 12 + 2);
  EXPECT_EQ(logged_requests_of("h-b"), 4u + 12 + 2);
  EXPECT_EQ(logged_requests_of("h-c"), 6u + 12);
  EXPECT_EQ(query("SELECT COUNT(*) FROM run_parts WHERE status = 'finished'"), "6");

  // A model whose server is down: its parts fail, the others stay finished, and the run says failed (exit 3).
  write_study({"h-a", "h-b", "h-c", "h-dead"}, 6);
  EXPECT_EQ(hybench(run_study(run), "s5"), 3) << err();
  EXPECT_EQ(query("SELECT group_concat(part_key, ' ') FROM (SELECT part_key FROM run_parts WHERE status = 'failed' "
                  "ORDER BY part_key)"),
            "eval/h-dead/gsm8k sweep/h-dead");
  EXPECT_EQ(query("SELECT COUNT(*) FROM run_parts WHERE status = 'finished'"), "6");
  EXPECT_EQ(query("SELECT status FROM runs"), "failed");
  EXPECT_EQ(logged_requests(), 3u * 18) << "the dead server saw nothing; the others requested nothing new";
}

}  // namespace
}  // namespace hb::test
