// Nightly comparisons: which run `--base previous` / `--base DATE` picks, and a throughput test that can
// make a real regression significant with few repeats (Welch t on log throughput).
#include <gtest/gtest.h>

#include <cmath>

#include "harness/base/error.h"
#include "reports/compare.h"
#include "reports/run_selection.h"
#include "reports/stats/welch.h"

namespace hb::reports {
namespace {

RunInfo run(int64_t id, const std::string& name, const std::string& started, const std::string& status = "finished",
            const std::string& kind = "mixed", const std::string& study = "") {
  RunInfo r;
  r.id = id;
  r.name = name;
  r.kind = kind;
  r.status = status;
  r.started_at = started;
  if (!study.empty()) r.config = {{"name", study}};
  return r;
}

TEST(RunFamily, StripsDateAndNumberSuffixes) {
  EXPECT_EQ(run_family("nightly-2026-12-03"), "nightly");
  EXPECT_EQ(run_family("nightly_20261203T0200Z"), "nightly");
  EXPECT_EQ(run_family("eval-m-20261203T101010Z-2"), "eval-m");
  EXPECT_EQ(run_family("nightly"), "nightly");     // no suffix: its own family
  EXPECT_EQ(run_family("2026-12-03"), "2026-12-03");  // nothing left: the whole name
  EXPECT_EQ(run_family("gpu-h100-nightly-7"), "gpu-h100-nightly");
}

TEST(ChooseBase, PreviousIsTheLatestEarlierFinishedRunOfTheFamily) {
  std::vector<RunInfo> runs = {run(1, "nightly-2026-12-01", "2026-12-01T02:00:00Z"),
                               run(2, "other-2026-12-02", "2026-12-02T02:00:00Z"),
                               run(3, "nightly-2026-12-02", "2026-12-02T02:00:00Z"),
                               run(4, "nightly-2026-12-02-2", "2026-12-02T05:00:00Z", "failed"),
                               run(5, "nightly-2026-12-03", "2026-12-03T02:00:00Z"),
                               run(6, "nightly-2026-12-04", "2026-12-04T02:00:00Z")};
  auto c = choose_base_run(runs, runs[4], "previous");
  EXPECT_EQ(c.run.name, "nightly-2026-12-02");  // not the failed one, not another family, not a later run
  EXPECT_NE(c.why.find("nightly"), std::string::npos);
  EXPECT_EQ(choose_base_run(runs, runs[4], "2026-12-01").run.name, "nightly-2026-12-01");
  EXPECT_EQ(choose_base_run(runs, runs[4], "other-2026-12-02").run.name, "other-2026-12-02");  // a name as before
  try {
    choose_base_run(runs, runs[4], "2026-11-30");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::usage);
    EXPECT_NE(std::string(e.what()).find("started on 2026-11-30"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("nightly-2026-12-02-2 (failed"), std::string::npos) << e.what();
  }
  try {
    choose_base_run(runs, runs[0], "previous");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("first run"), std::string::npos) << e.what();
  }
  EXPECT_THROW(choose_base_run(runs, runs[4], "nightly-2026-12-09"), Error);  // unknown name
}

TEST(ChooseBase, StudyRunsFollowTheirStudyWhateverTheirNames) {
  std::vector<RunInfo> runs = {run(1, "mon", "2026-12-01T02:00:00Z", "finished", "study", "apriel"),
                               run(2, "nightly-x", "2026-12-02T02:00:00Z", "finished", "study", "quickstart"),
                               run(3, "tue", "2026-12-02T02:00:00Z", "finished", "study", "apriel")};
  EXPECT_EQ(choose_base_run(runs, runs[2], "previous").run.name, "mon");
}

TEST(Welch, StudentTCdfKnownValues) {
  EXPECT_NEAR(stats::student_t_cdf(1.0, 1), 0.75, 1e-9);  // Cauchy
  EXPECT_NEAR(stats::student_t_cdf(2.0, 5), 0.9490303, 1e-6);
  EXPECT_NEAR(stats::student_t_cdf(-2.776445, 4), 0.025, 1e-5);
  EXPECT_NEAR(stats::student_t_cdf(0, 3.5), 0.5, 1e-12);
  EXPECT_NEAR(stats::student_t_cdf(1.959964, 1e6), 0.975, 1e-5);
}

TEST(Welch, LogTestNeedsTwoPositiveValuesASide) {
  EXPECT_FALSE(stats::welch_log({1}, {1, 2}));
  EXPECT_FALSE(stats::welch_log({1, 0}, {1, 2}));
  auto w = stats::welch_log({80, 82, 79}, {100, 101, 99});
  ASSERT_TRUE(w);
  EXPECT_LT(w->p_less, 0.001);
  EXPECT_GT(w->p_greater, 0.999);
  auto same = stats::welch_log({100, 101, 99}, {100, 101, 99});
  ASSERT_TRUE(same);
  EXPECT_NEAR(same->p_less, 0.5, 1e-9);
}

StudyData perf_data(const std::string& run_name, std::vector<double> tok_s) {
  StudyData d;
  d.runs.push_back(run(1, run_name, "2026-12-03T02:00:00Z"));
  ModelData m;
  m.info.name = "H-30";
  PerfLevel l;
  l.shape = "1:16384";
  l.load_kind = "concurrency";
  l.load = 8;
  l.repeats = static_cast<int>(tok_s.size());
  l.output_tok_per_s = tok_s;
  m.perf.push_back(l);
  d.models.push_back(m);
  return d;
}

// A 20% throughput drop with 1% noise, 3 repeats a side: Mann-Whitney's smallest p is 1/20, so at alpha 0.01
// it can never call it; Welch on log throughput does. With 5 repeats a side Mann-Whitney reaches 1/252.
TEST(CompareThroughput, ARealRegressionCanBeSignificantWithFewRepeats) {
  CompareOptions o;
  o.alpha = 0.01;
  auto base3 = perf_data("n-1", {1000, 1010, 995}), head3 = perf_data("n-2", {800, 805, 798});
  auto mw = compare_runs(base3, head3, o);
  ASSERT_EQ(mw.perf.size(), 1u);
  EXPECT_NEAR(*mw.perf[0].p, 0.05, 1e-9);
  EXPECT_FALSE(mw.regression);
  o.perf_test = "welch-log";
  auto welch = compare_runs(base3, head3, o);
  EXPECT_EQ(welch.perf[0].test, "Welch t on log");
  EXPECT_LT(*welch.perf[0].p, 0.001);
  EXPECT_TRUE(welch.regression);
  // No drop: no regression either way.
  EXPECT_FALSE(compare_runs(base3, perf_data("n-2", {1003, 998, 1008}), o).regression);
  o.perf_test = "mann-whitney";
  auto five = compare_runs(perf_data("n-1", {1000, 1010, 995, 1002, 1005}), perf_data("n-2", {800, 805, 798, 802, 801}), o);
  EXPECT_NEAR(*five.perf[0].p, 1.0 / 252, 1e-9);
  EXPECT_TRUE(five.regression);
}

}  // namespace
}  // namespace hb::reports
