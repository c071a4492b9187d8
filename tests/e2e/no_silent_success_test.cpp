// No silent success (issue #12): run, eval and sweep fail (exit 3, run marked failed, the count in the
// last line) when too many requests fail; invalid inputs are refused (exit 2, naming the field) before
// anything is written; URL credentials never reach the database, the logs or the report.
#include "loopback_fixture.h"

namespace hb::test {
namespace {

class NoSilentSuccess : public LoopbackFixture {
 protected:
  // A port nothing listens on: the server's, after it stopped.
  std::string dead_url() {
    start_server({});
    std::string url = url_;
    server_.reset();
    return url;
  }
  std::string write_study(const std::string& name, const std::string& body) {
    std::ofstream(path(name)) << body;
    return path(name);
  }
  std::string study_with(const std::string& spec, const std::string& extra = "") {
    return R"({"schema_version": 1, "name": "s", "models": [{"name": "m", "spec": ")" + spec +
           R"("}], "suites": [{"suite": "gsm8k", "limit": 3}])" + extra + "}";
  }
  int run_study(const std::string& file) {
    return run_program({hybench(), "run", file, "--db", path("r.db"), "--data-dir", HB_TEST_DATASETS_DIR, "--no-report"},
                       path("run.out"), path("run.err"), 120);
  }
  bool db_has_no_run() const {
    if (!std::filesystem::exists(path("r.db"))) return true;
    return count("SELECT COUNT(*) FROM runs") == 0;
  }
};

TEST_F(NoSilentSuccess, StudyAgainstADeadEndpointFailsWithTheCount) {
  std::string url = dead_url();
  std::string study = write_study("dead.json", study_with(url));
  // The study's models have default retries; keep them short through the study's own max_error_rate.
  EXPECT_EQ(run_study(study), 3) << read_file(path("run.err"));
  EXPECT_EQ(count("SELECT COUNT(*) FROM runs WHERE status = 'failed'"), 1);
  std::string last = last_line(read_file(path("run.out")));
  EXPECT_NE(last.find("run s failed: 3 of 3 samples failed"), std::string::npos) << last;
}

TEST_F(NoSilentSuccess, EvalAndSweepAgainstADeadEndpointFailWithTheCount) {
  std::string url = dead_url();
  int rc = run_program({hybench(), "eval", "--model", url, "--suite", "gsm8k", "--limit", "4", "--data-dir",
                        HB_TEST_DATASETS_DIR, "--db", path("r.db"), "--run", "e", "--max-attempts", "1"},
                       path("e.out"), path("e.err"), 120);
  EXPECT_EQ(rc, 3) << read_file(path("e.err"));
  EXPECT_NE(last_line(read_file(path("e.out"))).find("run e failed: 4 of 4 samples failed"), std::string::npos)
      << read_file(path("e.out"));
  rc = run_program({hybench(), "sweep", "--model", url, "--shape", "8:4", "--concurrency", "2", "--requests", "4",
                    "--db", path("r.db"), "--run", "w"},
                   path("w.out"), path("w.err"), 120);
  EXPECT_EQ(rc, 3) << read_file(path("w.err"));
  EXPECT_NE(last_line(read_file(path("w.out"))).find("run w failed: "), std::string::npos) << read_file(path("w.out"));
  EXPECT_EQ(count("SELECT COUNT(*) FROM runs WHERE status = 'failed'"), 2);
}

TEST_F(NoSilentSuccess, SomeErrorsBelowTheLimitAreCountedInTheLastLine) {
  start_server({"--fail-rate", "0.3", "--seed", "3"});
  int rc = run_program({hybench(), "eval", "--model", url_, "--suite", "gsm8k", "--limit", "30", "--data-dir",
                        HB_TEST_DATASETS_DIR, "--db", path("r.db"), "--run", "some", "--max-attempts", "1",
                        "--max-error-rate", "0.9"},
                       path("e.out"), path("e.err"), 120);
  ASSERT_EQ(rc, 0) << read_file(path("e.err"));
  int64_t errors = count("SELECT COUNT(*) FROM samples WHERE error_kind IS NOT NULL");
  EXPECT_GT(errors, 0);
  std::string last = last_line(read_file(path("e.out")));
  EXPECT_NE(last.find("run some finished: " + std::to_string(errors) + " of 30 samples failed"), std::string::npos) << last;
}

TEST_F(NoSilentSuccess, InvalidStudyFieldsAreRefusedBeforeAnythingIsWritten) {
  struct Case {
    std::string body, expect;
  };
  std::vector<Case> cases = {
      {R"({"schema_version": "one", "name": "s", "models": [{"name": "m", "spec": "openai:http://127.0.0.1:9/v1"}], "suites": [{"suite": "gsm8k"}]})",
       "/schema_version"},
      {study_with("openai:http://127.0.0.1:9/v1", R"(, "gate": {"default_margin": "x"})"), "default_margin"},
      {study_with("openai:http://127.0.0.1:/v1"), "empty port"},
      {study_with("openai:http://127.0.0.1:99999/v1"), "99999"},
      {study_with("opnai:http://127.0.0.1:9/v1"), "/models/0/spec"},
      {R"({"name": "s", "models": [{"name": "m", "spec": "openai:http://127.0.0.1:9/v1"}], "suites": [{"suite": "gsm8kk"}]})",
       "/suites/0"},
      {study_with("openai:http://127.0.0.1:9/v1", R"(, "max_error_rate": 2)"), "/max_error_rate"},
  };
  for (const auto& c : cases) {
    std::string file = write_study("bad.json", c.body);
    EXPECT_EQ(run_study(file), 2) << c.body << "\n" << read_file(path("run.err"));
    std::string err = read_file(path("run.err"));
    EXPECT_NE(err.find(c.expect), std::string::npos) << err;
    EXPECT_EQ(err.find("internal"), std::string::npos) << err;
    EXPECT_TRUE(db_has_no_run()) << c.body;
  }
}

TEST_F(NoSilentSuccess, MissingSuiteDataIsRefusedBeforeTheRunIsCreated) {
  std::string study = write_study("s.json", study_with("openai:http://127.0.0.1:9/v1"));
  int rc = run_program({hybench(), "run", study, "--db", path("r.db"), "--data-dir", path("no-data"), "--no-report"},
                       path("run.out"), path("run.err"), 120);
  EXPECT_NE(rc, 0);
  EXPECT_TRUE(db_has_no_run()) << "a run whose data could not be loaded must not stay 'running'";
  rc = run_program({hybench(), "eval", "--model", "openai:http://127.0.0.1:9/v1", "--suite", "gsm8k", "--data-dir",
                    path("no-data"), "--db", path("r.db")},
                   path("e.out"), path("e.err"), 120);
  EXPECT_NE(rc, 0);
  EXPECT_TRUE(db_has_no_run());
}

TEST_F(NoSilentSuccess, BadEvalOptionsAreUsageErrors) {
  std::vector<std::vector<std::string>> cases = {
      {"--temperature", "nan"}, {"--temperature", "inf"}, {"--temperature", "-inf"}, {"--max-error-rate", "nan"},
      {"--idle-timeout", "nan"}, {"--model", "openai:http://127.0.0.1:/v1"}, {"--model", "openai:http://127.0.0.1:99999/v1"}};
  for (const auto& extra : cases) {
    std::vector<std::string> args{hybench(), "eval", "--suite", "gsm8k", "--limit", "2", "--data-dir",
                                  HB_TEST_DATASETS_DIR, "--db", path("r.db")};
    if (extra[0] != "--model") args.insert(args.end(), {"--model", "openai:http://127.0.0.1:9/v1"});
    args.insert(args.end(), extra.begin(), extra.end());
    EXPECT_EQ(run_program(args, path("e.out"), path("e.err"), 60), 2) << extra[0] << " " << extra[1];
    std::string err = read_file(path("e.err"));
    EXPECT_NE(err.find(extra[0] == "--model" ? "port" : extra[0]), std::string::npos) << err;
    EXPECT_TRUE(db_has_no_run());
  }
}

TEST_F(NoSilentSuccess, UrlCredentialsAreRedactedInTheDatabaseLogsAndReport) {
  start_server({"--fail-rate", "0.5", "--seed", "5"});
  std::string url = "openai:http://alice:hunter2secret@127.0.0.1:" + port_ + "/v1";
  int rc = run_program({hybench(), "--log-level", "debug", "eval", "--model", url, "--suite", "gsm8k", "--limit", "6",
                        "--data-dir", HB_TEST_DATASETS_DIR, "--db", path("r.db"), "--run", "cred", "--max-attempts", "1",
                        "--max-error-rate", "1"},
                       path("e.out"), path("e.err"), 120);
  ASSERT_EQ(rc, 0) << read_file(path("e.err"));
  ASSERT_GT(count("SELECT COUNT(*) FROM samples WHERE error_kind IS NOT NULL"), 0) << "error messages were stored";
  rc = run_program({hybench(), "report", "--db", path("r.db"), "--out", path("rep")}, path("r.out"), path("r.err"), 60);
  ASSERT_EQ(rc, 0) << read_file(path("r.err"));
  std::string everything = read_file(path("e.out")) + read_file(path("e.err")) + read_file(path("r.out")) +
                           read_file(path("r.err")) + read_file(path("rep/index.html"));
  {
    store::Db db(path("r.db"), store::Db::Mode::read_only);
    for (const char* sql : {"SELECT name || config_json FROM runs", "SELECT display_name || spec || details_json FROM models",
                            "SELECT endpoint || COALESCE(error_message, '') FROM samples",
                            "SELECT COALESCE(endpoint, '') || COALESCE(message, '') FROM attempts"}) {
      auto q = db.prepare(sql);
      while (q.step()) everything += q.text(0) + "\n";
    }
  }
  EXPECT_EQ(everything.find("hunter2secret"), std::string::npos);
  // The report says how many samples failed.
  int64_t failed = count("SELECT COUNT(*) FROM samples WHERE error_kind IS NOT NULL");
  EXPECT_NE(read_file(path("rep/index.html")).find("<td>" + std::to_string(failed) + " of 6</td>"), std::string::npos);
  EXPECT_NE(everything.find("alice:***@127.0.0.1"), std::string::npos);
  EXPECT_EQ(request_log().size(), 6u) << "the credentials still work: every request reached the server";
}

}  // namespace
}  // namespace hb::test
