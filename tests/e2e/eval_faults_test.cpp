// The done-when check of issue #12: all of GSM8K (1319 items) against hb_loopback_server injecting 3% of
// each fault (429 with Retry-After, close without response, drop mid-stream, invalid JSON event, stall,
// error event). Every transient fault is retried as a new attempt; the stored attempts equal the server's
// request log, kind by kind; only samples that ran out of attempts are stored as errors.
#include <map>

#include "loopback_fixture.h"

namespace hb::test {
namespace {

class EvalFaults : public LoopbackFixture {};

TEST_F(EvalFaults, FullGsm8kWithThreePercentOfEachFaultIsRetriedAndEveryAttemptIsStored) {
  std::vector<std::string> faults;
  for (const char* f : {"429", "close", "drop", "invalid-json", "stall", "error-event"}) {
    faults.push_back("--fault");
    faults.push_back(std::string(f) + ":0.03");
  }
  faults.insert(faults.end(), {"--retry-after", "0.2", "--seed", "12", "--threads", "2"});
  start_server(faults);
  const int max_attempts = 8;
  std::vector<std::string> args{hybench(), "eval", "--model", url_, "--model-name", "loop", "--suite", "gsm8k",
                                "--data-dir", HB_TEST_DATASETS_DIR, "--db", path("r.db"), "--run", "faults",
                                "--concurrency", "64", "--idle-timeout", "0.5", "--max-attempts",
                                std::to_string(max_attempts), "--max-error-rate", "0.01"};
  int rc = run_program(args, path("eval.out"), path("eval.err"), 300);
  ASSERT_EQ(rc, 0) << read_file(path("eval.err"));

  EXPECT_EQ(count("SELECT COUNT(*) FROM samples"), 1319);
  EXPECT_EQ(count("SELECT COUNT(DISTINCT item_id) FROM samples"), 1319);
  // Success: the last attempt of the sample is "ok" and it is the only ok one.
  EXPECT_EQ(count("SELECT COUNT(*) FROM samples s WHERE error_kind IS NULL AND (SELECT kind FROM attempts a WHERE "
                  "a.item_id = s.item_id ORDER BY attempt DESC LIMIT 1) <> 'ok'"),
            0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM attempts WHERE kind = 'ok'"), count("SELECT COUNT(*) FROM samples WHERE error_kind IS NULL"));
  // A sample stored as an error used every attempt (with 18% faulty requests, 0.18^8: about none).
  EXPECT_EQ(count("SELECT COUNT(*) FROM samples WHERE error_kind IS NOT NULL AND attempts < " + std::to_string(max_attempts)), 0);
  EXPECT_LE(count("SELECT COUNT(*) FROM samples WHERE error_kind IS NOT NULL"), 2);
  EXPECT_EQ(count("SELECT SUM(attempts) FROM samples"), count("SELECT COUNT(*) FROM attempts"));

  // Stored attempts == the server's request log, in total and fault by fault.
  auto log = request_log();
  std::map<std::string, int64_t> faults_seen;
  int64_t chat = 0;
  for (const auto& line : log) {
    if (line["path"] != "/v1/chat/completions") continue;
    ++chat;
    faults_seen[line["fault"].is_null() ? "none" : line["fault"].get<std::string>()]++;
  }
  EXPECT_EQ(count("SELECT COUNT(*) FROM attempts WHERE request_sent = 1"), chat);
  EXPECT_EQ(count("SELECT COUNT(*) FROM attempts"), chat) << "no attempt failed before reaching the server";
  for (const char* f : {"429", "close", "drop", "invalid-json", "stall", "error-event"})
    EXPECT_GT(faults_seen[f], 10) << f << ": 3% of ~1600 requests";
  EXPECT_EQ(count("SELECT COUNT(*) FROM attempts WHERE kind = 'http_429' AND http_status = 429"), faults_seen["429"]);
  EXPECT_EQ(count("SELECT COUNT(*) FROM attempts WHERE kind IN ('connect', 'resent')"), faults_seen["close"]);
  EXPECT_EQ(count("SELECT COUNT(*) FROM attempts WHERE kind = 'truncated'"), faults_seen["drop"]);
  EXPECT_EQ(count("SELECT COUNT(*) FROM attempts WHERE kind = 'protocol'"), faults_seen["invalid-json"]);
  EXPECT_EQ(count("SELECT COUNT(*) FROM attempts WHERE kind = 'timeout'"), faults_seen["stall"]);
  EXPECT_EQ(count("SELECT COUNT(*) FROM attempts WHERE kind = 'server_error'"), faults_seen["error-event"]);
  EXPECT_EQ(count("SELECT COUNT(*) FROM attempts WHERE kind = 'truncated' AND bytes_received = 0"), 0)
      << "a dropped stream had received its first chunks";
  EXPECT_EQ(count("SELECT COUNT(*) FROM runs WHERE status = 'finished'"), 1);

  std::string out = read_file(path("eval.out"));
  EXPECT_NE(last_line(out).find("run faults finished: "), std::string::npos) << out;
  EXPECT_NE(last_line(out).find("of 1319 samples failed"), std::string::npos) << out;
  // Every sample was graded from a whole answer: the loopback answer is always 42.
  EXPECT_EQ(count("SELECT COUNT(*) FROM samples WHERE error_kind IS NULL AND completion NOT LIKE '%#### 42'"), 0);
}

}  // namespace
}  // namespace hb::test
