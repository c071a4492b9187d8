#include "reports/summary.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "harness/base/error.h"
#include "harness/base/files.h"
#include "harness/store/sqlite.h"
#include "reports/report.h"
#include "reports/results_db.h"
#include "tests/reports/fixture_db.h"
#include "tests/reports/golden.h"

namespace hb::reports {
namespace {
using testing::build_study_fixture;
using testing::expect_golden;
using testing::temp_dir;

class SummaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir("summary");
    db_path_ = dir_ + "/study.db";
    build_study_fixture(db_path_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_, db_path_;
};

TEST_F(SummaryTest, RowsAreOrderedAndComplete) {
  ResultsDb db(db_path_);
  auto rows = db.metric_rows(db.runs());
  // 5 models x (gsm8k: 2 metrics + aime: 1 metric)
  ASSERT_EQ(rows.size(), 15u);
  EXPECT_EQ(rows[0].model, "H-25");
  EXPECT_EQ(rows[0].suite, "aime");
  EXPECT_EQ(rows[1].suite, "gsm8k");
  EXPECT_EQ(rows[1].metric, "accuracy/flexible");
  EXPECT_EQ(rows.back().model, "teacher");
  for (const auto& r : rows) {
    EXPECT_EQ(r.n, r.suite == "gsm8k" ? 500 : 30);
  }
}

TEST_F(SummaryTest, GoldenSummaryFiles) {
  ResultsDb db(db_path_);
  ReportOptions o;
  o.out_dir = dir_ + "/out";
  auto files = write_report(db, o);
  ASSERT_GE(files.size(), 2u);
  expect_golden("summary.md", read_file(dir_ + "/out/summary.md"));
  expect_golden("summary.json", read_file(dir_ + "/out/summary.json"));
  auto j = nlohmann::json::parse(read_file(dir_ + "/out/summary.json"));
  EXPECT_EQ(j["schema_version"], 2);
  EXPECT_EQ(j["rows"].size(), 15u);
  for (const char* key : {"run", "model", "suite", "metric", "n", "value", "stderr", "ci95"})
    EXPECT_TRUE(j["rows"][0].contains(key));
  EXPECT_EQ(j["baseline"], "teacher");
  EXPECT_EQ(j["frontier"].size(), 6u);  // 2 shapes x (average + 2 suites)
  EXPECT_EQ(j["throughput"].size(), 5u * 2u * 3u);  // models x shapes x load levels
  EXPECT_EQ(j["decision"]["decision"], "no_decision");  // aime's 30 problems are under the default minimum
}

// The decision a CI job reads without the HTML: the recommendation, its rule, the frontier and throughput.
TEST(SummaryJson, FamilyDecisionFrontierAndThroughput) {
  std::string dir = temp_dir("family");
  testing::build_family_fixture(dir + "/f.db");
  ResultsDb db(dir + "/f.db");
  ReportOptions o;
  o.out_dir = dir + "/out";
  o.gate_policy = nlohmann::json::parse(testing::kFamilyGatePolicy);
  o.gate_source = "family.json";
  write_report(db, o);
  auto j = nlohmann::json::parse(read_file(dir + "/out/summary.json"));
  EXPECT_EQ(j["decision"]["decision"], "chosen");
  EXPECT_EQ(j["decision"]["chosen"], "H-30");
  EXPECT_EQ(j["decision"]["policy"]["origin"], "study gate policy (family.json)");
  EXPECT_NE(j["decision"]["policy"]["text"].get<std::string>().find("1024:256 concurrency=32 at least 1.20x"),
            std::string::npos);
  bool checked = false;
  for (const auto& panel : j["frontier"]) {
    if (panel["shape"] != "1024:256" || panel["panel"] != "average") continue;
    checked = true;
    std::vector<std::string> on = panel["on_frontier"];
    EXPECT_NE(std::find(on.begin(), on.end(), "teacher"), on.end());
    EXPECT_NE(std::find(on.begin(), on.end(), "H-50"), on.end());
    for (const auto& pt : panel["points"]) {
      EXPECT_LE(pt["y_ci95"][0].get<double>(), pt["y"].get<double>());
      EXPECT_GE(pt["y_ci95"][1].get<double>(), pt["y"].get<double>());
      EXPECT_TRUE(pt["x_range"].is_array());
      EXPECT_GT(pt["tok_per_s"].get<double>(), 0);
    }
  }
  EXPECT_TRUE(checked);
  int peaks = 0;
  for (const auto& t : j["throughput"]) peaks += t["peak"].get<bool>() ? 1 : 0;
  EXPECT_EQ(peaks, 5 * 2);  // one peak per model and shape
  std::string html = read_file(dir + "/out/index.html");
  EXPECT_NE(html.find("Recommended: H-30"), std::string::npos);
  EXPECT_NE(html.find("<b>Rule</b> (study gate policy (family.json))"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_F(SummaryTest, SameInputSameBytes) {
  ResultsDb db(db_path_);
  auto rows = db.metric_rows(db.runs());
  EXPECT_EQ(render_summary_json(rows), render_summary_json(db.metric_rows(db.runs())));
  EXPECT_EQ(render_summary_md(db.runs(), rows), render_summary_md(db.runs(), rows));
}

TEST_F(SummaryTest, UnknownRunSuggestsTheClosest) {
  ResultsDb db(db_path_);
  try {
    db.select_runs({"studi"});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::usage);
    EXPECT_NE(e.message().find("unknown run 'studi'"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("did you mean 'study'"), std::string::npos) << e.message();
  }
}

TEST(ResultsDbErrors, MissingFileIsNotCreated) {
  std::string dir = temp_dir("missing");
  std::string path = dir + "/nope.db";
  try {
    ResultsDb db(path);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
    EXPECT_NE(e.message().find("does not exist"), std::string::npos) << e.message();
  }
  EXPECT_FALSE(file_exists(path));
  std::filesystem::remove_all(dir);
}

TEST(ResultsDbErrors, NotAnSqliteFile) {
  std::string dir = temp_dir("notdb");
  std::string path = dir + "/text.db";
  std::ofstream(path) << "this is not a database, just some text that is long enough to be a header\n";
  try {
    ResultsDb db(path);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("not an SQLite database"), std::string::npos) << e.message();
  }
  std::filesystem::remove_all(dir);
}

TEST(ResultsDbErrors, DatabaseWithoutRuns) {
  std::string dir = temp_dir("empty");
  std::string path = dir + "/empty.db";
  { store::Store s(path); }
  try {
    ResultsDb db(path);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::usage);
    EXPECT_NE(e.message().find("holds no runs"), std::string::npos) << e.message();
  }
  std::filesystem::remove_all(dir);
}

TEST(ResultsDbErrors, UnwritableOutput) {
  std::string dir = temp_dir("unwritable");
  std::string file = dir + "/a-file";
  std::ofstream(file) << "x";
  try {
    prepare_output_dir(file);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::usage);
    EXPECT_NE(e.message().find("is a file"), std::string::npos) << e.message();
  }
  try {
    prepare_output_dir(file + "/sub");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::usage);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hb::reports
