// "No decision: too little data": the gate's guards (minimum items, degenerate data, power estimate), the
// intervals that stay inside the metric's range, and the paired-difference interval.
#include <gtest/gtest.h>

#include <filesystem>

#include "harness/base/error.h"
#include "harness/base/files.h"
#include "reports/gate.h"
#include "reports/report.h"
#include "reports/results_db.h"
#include "reports/stats/intervals.h"
#include "reports/stats/paired.h"
#include "reports/stats/power.h"
#include "reports/study_data.h"
#include "tests/reports/fixture_db.h"
#include "tests/reports/golden.h"

namespace hb::reports {
namespace {
using testing::FixtureBuilder;
using testing::PerfPlan;
using testing::temp_dir;

GatePolicy policy_from(const std::string& text) { return parse_gate_policy(nlohmann::json::parse(text), "test"); }

TEST(ScoreInterval, StaysInsideZeroToOne) {
  // One right out of four with mean +- 1.96 se was 25.0 +- 49.0 on the quickstart page.
  auto ci = stats::score_interval(0.25, 0.25, 4);
  EXPECT_GE(ci.low, 0.0);
  EXPECT_LE(ci.high, 1.0);
  EXPECT_LT(ci.low, 0.25);
  EXPECT_GT(ci.high, 0.25);
  // All zero: [0, Wilson upper] with n items, never a zero-width interval.
  auto zero = stats::score_interval(0.0, 0.0, 4);
  EXPECT_DOUBLE_EQ(zero.low, 0.0);
  EXPECT_NEAR(zero.high, stats::wilson(0, 4).high, 1e-12);
  EXPECT_GT(zero.high, 0.4);
  auto one = stats::score_interval(1.0, 0.0, 30);
  EXPECT_DOUBLE_EQ(one.high, 1.0);
  EXPECT_LT(one.low, 1.0);
  // Single binary samples with Bessel's se: effective n = n - 1, so close to Wilson on n.
  auto w = stats::wilson(400, 500);
  double se = std::sqrt(0.8 * 0.2 / 499.0);
  auto e = stats::score_interval(0.8, se, 500);
  EXPECT_NEAR(e.low, w.low, 0.001);
  EXPECT_NEAR(e.high, w.high, 0.001);
  // A rating outside [0, 1] gets the CLT interval clamped to the range given.
  auto r = stats::score_interval(9.8, 0.2, 10, 0.95, 1, 10);
  EXPECT_DOUBLE_EQ(r.high, 10.0);
}

TEST(NewcombePaired, InsideTheRangeAndNeverZeroWidthOnSmallN) {
  // Four items that all agree: the bootstrap gives [0, 0]; Newcombe still reports the uncertainty.
  std::vector<double> a = {0, 0, 0, 0}, b = {0, 0, 0, 0};
  auto ci = stats::newcombe_paired(a, b);
  EXPECT_LT(ci.low, -0.3);
  EXPECT_GT(ci.high, 0.3);
  EXPECT_GE(ci.low, -1.0);
  EXPECT_LE(ci.high, 1.0);
  // All discordant one way: the interval excludes 0 and stays above -1.
  std::vector<double> c(20, 1.0), d(20, 0.0);
  auto all = stats::newcombe_paired(c, d);
  EXPECT_GE(all.low, -1.0);
  EXPECT_LT(all.high, 0.0);
  // Contains the observed difference, narrows with n.
  std::vector<double> x, y;
  for (int i = 0; i < 400; ++i) {
    x.push_back(i % 5 != 0 ? 1 : 0);  // 0.80
    y.push_back(i % 5 != 0 && i % 20 != 1 ? 1 : 0);
  }
  auto big = stats::newcombe_paired(x, y);
  double delta = -20.0 / 400.0;
  EXPECT_LT(big.low, delta);
  EXPECT_GT(big.high, delta);
  EXPECT_LT(big.high - big.low, 0.1);
  EXPECT_LT(big.high, 0.0);  // 20 discordant pairs, all one way: significant
}

TEST(Power, NeededItemsAndWords) {
  // Planning sd 0.5, margin 5 points, alpha 0.05, power 0.8: ((1.645 + 0.842) * 0.5 / 0.05)^2 = 618.3.
  auto p = stats::non_inferiority_power(std::vector<double>(4, 0.0), 0.05, 0.05);
  EXPECT_TRUE(p.sd_assumed);
  EXPECT_EQ(p.n_needed, 619);
  EXPECT_LT(p.power, 0.1);
  std::string words = stats::describe_power(p);
  EXPECT_NE(words.find("with n=4 a 5.0-point drop cannot be reliably detected at alpha 0.05"), std::string::npos)
      << words;
  EXPECT_NE(words.find("power 0.80 needs n≈619 items"), std::string::npos) << words;
  // The observed sd is used when there are enough items that vary.
  std::vector<double> d;
  for (int i = 0; i < 200; ++i) d.push_back(i % 10 == 0 ? -1 : 0);
  auto q = stats::non_inferiority_power(d, 0.02, 0.05);
  EXPECT_FALSE(q.sd_assumed);
  EXPECT_NEAR(q.sd, 0.3, 0.01);
  EXPECT_GT(q.n_needed, 1000);
}

class TinyStudy : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir("tiny");
    testing::build_tiny_fixture(dir_ + "/q.db");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(TinyStudy, GateSaysNoDecisionWithTheReason) {
  ResultsDb db(dir_ + "/q.db");
  auto study = collect_study(db, db.runs(), "teacher");
  auto policy = policy_from(
      R"({"default_margin": 0.05, "throughput": {"shape": "16:32", "load_kind": "concurrency", "load": 4}})");
  auto d = run_gate(study, {}, policy);
  EXPECT_TRUE(d.no_decision);
  EXPECT_FALSE(d.chosen);
  EXPECT_EQ(d.status(), "no_decision");
  EXPECT_EQ(gate_exit_code(d), kExitNoDecision);
  ASSERT_EQ(d.no_decision_reasons.size(), 4u);  // one per suite
  std::string all;
  for (const auto& r : d.no_decision_reasons) all += r + "\n";
  EXPECT_NE(all.find("gsm8k: n=4 paired items < min_items 100; with n=4 a 5.0-point drop cannot be reliably "
                     "detected at alpha 0.05"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("aime24: n=3 paired items"), std::string::npos) << all;
  EXPECT_NE(all.find("power 0.80 needs n≈619"), std::string::npos) << all;
  for (const auto& c : d.candidates) {
    EXPECT_TRUE(c.undecided) << c.model;
    EXPECT_FALSE(c.passed) << c.model;
  }
  std::string text = render_gate_text(d, policy);
  EXPECT_NE(text.find("decision: no decision: too little data"), std::string::npos) << text;
  EXPECT_EQ(text.find(" p 0."), std::string::npos) << text;  // no p-value from all-zero deltas
  EXPECT_EQ(text.find(" p 1."), std::string::npos) << text;
  auto j = nlohmann::json::parse(render_gate_json(d));
  EXPECT_EQ(j["decision"], "no_decision");
  EXPECT_EQ(j["chosen"], nullptr);
}

TEST_F(TinyStudy, LoweringMinItemsStillRefusesAllZeroScores) {
  ResultsDb db(dir_ + "/q.db");
  auto study = collect_study(db, db.runs(), "teacher");
  auto d = run_gate(study, {"H-40"}, policy_from(R"({"default_margin": 0.05, "min_items": 2})"));
  EXPECT_TRUE(d.no_decision);
  ASSERT_FALSE(d.no_decision_reasons.empty());
  EXPECT_NE(d.no_decision_reasons[0].find("every item scores 0.00 for both models"), std::string::npos)
      << d.no_decision_reasons[0];
}

TEST_F(TinyStudy, ThePageAndSummaryReadNoDecision) {
  ResultsDb db(dir_ + "/q.db");
  ReportOptions o;
  o.out_dir = dir_ + "/out";
  o.baseline = "teacher";
  o.gate_policy = nlohmann::json::parse(
      R"({"default_margin": 0.05, "throughput": {"shape": "16:32", "load_kind": "concurrency", "load": 4}})");
  o.gate_source = "studies/quickstart.json";
  write_report(db, o);
  std::string html = read_file(dir_ + "/out/index.html");
  EXPECT_NE(html.find("No decision: too little data."), std::string::npos);
  EXPECT_EQ(html.find("Recommended:"), std::string::npos);
  EXPECT_NE(html.find("study gate policy (studies/quickstart.json)"), std::string::npos);
  EXPECT_NE(html.find("within 5.0 points"), std::string::npos);
  EXPECT_NE(html.find("16:32 concurrency=4"), std::string::npos);
  EXPECT_EQ(html.find("&plusmn;"), std::string::npos);  // intervals are [low, high], not symmetric
  auto j = nlohmann::json::parse(read_file(dir_ + "/out/summary.json"));
  EXPECT_EQ(j["decision"]["decision"], "no_decision");
  for (const auto& row : j["rows"]) {
    ASSERT_TRUE(row["ci95"].is_array());
    EXPECT_GE(row["ci95"][0].get<double>(), 0.0);
    EXPECT_LE(row["ci95"][1].get<double>(), 1.0);
  }
  std::string md = read_file(dir_ + "/out/summary.md");
  EXPECT_NE(md.find("**Decision: no decision: too little data**"), std::string::npos) << md;
  EXPECT_EQ(md.find("[-"), std::string::npos) << md;  // no interval below 0
}

// Hundreds of items where two models agree on every item: the deltas have no variance, no decision.
TEST(GateGuards, ZeroVarianceDeltasDecideNothing) {
  std::string dir = temp_dir("zerovar");
  {
    FixtureBuilder b(dir + "/z.db");
    int64_t run = b.run("z");
    int64_t t = b.model({"teacher", 50, 0});
    int64_t h = b.model({"H-30", 20, 30});
    b.quality(run, t, {"gsm8k", "", 300, 1, {"accuracy"}, 0.7, 5});
    b.quality(run, h, {"gsm8k", "", 300, 1, {"accuracy"}, 0.7, 5});
    b.finish(run);
  }
  ResultsDb db(dir + "/z.db");
  auto study = collect_study(db, db.runs(), "teacher");
  auto d = run_gate(study, {}, GatePolicy{});
  EXPECT_TRUE(d.no_decision);
  ASSERT_EQ(d.no_decision_reasons.size(), 1u);
  EXPECT_NE(d.no_decision_reasons[0].find("no variance"), std::string::npos) << d.no_decision_reasons[0];
  std::filesystem::remove_all(dir);
}

TEST(GateGuards, AFailingCandidateStillFailsAndMinItemsCanBeSetPerSuite) {
  std::string dir = temp_dir("perSuite");
  {
    FixtureBuilder b(dir + "/s.db");
    int64_t run = b.run("s");
    int64_t t = b.model({"teacher", 50, 0});
    int64_t h = b.model({"H-40", 10, 40});
    int64_t g = b.model({"H-25", 25, 25});
    b.quality(run, t, {"gsm8k", "", 400, 1, {"accuracy"}, 0.80, 5});
    b.quality(run, h, {"gsm8k", "", 400, 1, {"accuracy"}, 0.60, 5});
    b.quality(run, g, {"gsm8k", "", 400, 1, {"accuracy"}, 0.79, 5});
    b.quality(run, t, {"aime", "", 30, 8, {"accuracy"}, 0.50, 6});
    b.quality(run, h, {"aime", "", 30, 8, {"accuracy"}, 0.45, 6});
    b.quality(run, g, {"aime", "", 30, 8, {"accuracy"}, 0.49, 6});
    b.finish(run);
  }
  ResultsDb db(dir + "/s.db");
  auto study = collect_study(db, db.runs(), "teacher");
  // aime has 30 problems: under the default minimum, no decision...
  auto d = run_gate(study, {}, policy_from(R"({"default_margin": 0.1})"));
  EXPECT_TRUE(d.no_decision);
  for (const auto& c : d.candidates)
    if (c.model == "H-40") EXPECT_FALSE(c.undecided);  // ...but H-40's 20-point gsm8k drop is a plain FAIL
  // ...and with a per-suite minimum the gate decides.
  auto ok = run_gate(study, {}, policy_from(R"({"default_margin": 0.1, "min_items": {"aime": 30}})"));
  EXPECT_FALSE(ok.no_decision);
  ASSERT_TRUE(ok.chosen);
  EXPECT_EQ(*ok.chosen, "H-25");
  EXPECT_EQ(gate_exit_code(ok), 0);
  EXPECT_NE(describe_policy(policy_from(R"({"min_items": {"default": 200, "aime": 30}})")).find(
                "at least 200 paired items per suite, aime 30"),
            std::string::npos);
  EXPECT_THROW(policy_from(R"({"min_items": 0})"), Error);
  EXPECT_THROW(policy_from(R"({"min_items": "many"})"), Error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hb::reports

namespace hb::reports {
namespace {

// The shipped studies' gate policies parse, and AIME (30 problems) has its own minimum where it is gated.
TEST(GatePolicy, ShippedStudiesParseWithTheirMinimums) {
  for (const char* name : {"quickstart.json", "apriel-h1.json"}) {
    std::string path = std::string(HB_TEST_DATA_DIR) + "/../../studies/" + name;
    auto study = nlohmann::json::parse(read_file(path));
    ASSERT_TRUE(study.contains("gate")) << name;
    auto p = parse_gate_policy(study["gate"], path);
    EXPECT_EQ(p.min_items, 100) << name;
    if (std::string(name) == "apriel-h1.json") {
      EXPECT_EQ(p.min_items_for("aime24", std::nullopt), 30);
      EXPECT_EQ(p.min_items_for("aime25/chat", std::nullopt), 30);
      EXPECT_EQ(p.min_items_for("gsm8k", std::nullopt), 100);
    }
  }
}

}  // namespace
}  // namespace hb::reports
