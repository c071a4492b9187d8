#include "reports/pareto.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "harness/base/files.h"
#include "reports/report.h"
#include "reports/results_db.h"
#include "reports/study_data.h"
#include "tests/reports/fixture_db.h"
#include "tests/reports/golden.h"

namespace hb::reports {
namespace {
using testing::build_study_fixture;
using testing::expect_golden;
using testing::temp_dir;

ParetoPoint pt(const std::string& name, double x, double y, double se, double spread = 0.0) {
  ParetoPoint p;
  p.model = name;
  p.x = x;
  p.x_low = x * (1 - spread);
  p.x_high = x * (1 + spread);
  p.y = y;
  p.y_se = se;
  return p;
}

bool on_frontier(const std::vector<ParetoPoint>& pts, const std::string& name) {
  for (const auto& p : pts)
    if (p.model == name) return p.frontier;
  return false;
}

TEST(Frontier, DominationNeedsASignificantDifference) {
  std::vector<ParetoPoint> pts = {
      pt("base", 1.0, 0.80, 0.01),           pt("fast", 2.0, 0.70, 0.01),
      pt("slow-worse", 1.5, 0.60, 0.01),      // fast is faster and significantly better: dominated
      pt("tie-speed", 2.01, 0.69, 0.05),      // not significantly slower/worse than fast: stays
      pt("noisy", 1.9, 0.695, 0.002, 0.001),  // fast is 5% faster (beyond the 3% band) and not worse: dominated
  };
  mark_frontier(pts);
  EXPECT_TRUE(on_frontier(pts, "base"));
  EXPECT_TRUE(on_frontier(pts, "fast"));
  EXPECT_FALSE(on_frontier(pts, "slow-worse"));
  EXPECT_TRUE(on_frontier(pts, "tie-speed"));
  EXPECT_FALSE(on_frontier(pts, "noisy"));
}

TEST(Frontier, WithinNoiseOnBothAxesIsNotDominated) {
  std::vector<ParetoPoint> pts = {pt("a", 1.00, 0.700, 0.02, 0.05), pt("b", 1.02, 0.710, 0.02, 0.05)};
  mark_frontier(pts);
  EXPECT_TRUE(pts[0].frontier);
  EXPECT_TRUE(pts[1].frontier);
}

class ParetoStudy : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir("pareto");
    db_path_ = dir_ + "/study.db";
    build_study_fixture(db_path_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_, db_path_;
};

TEST_F(ParetoStudy, PanelsPerShapeAndSuite) {
  ResultsDb db(db_path_);
  auto study = collect_study(db, db.runs(), "");
  EXPECT_EQ(study.baseline, "teacher");  // fewest Mamba layers
  auto panels = compute_pareto(study);
  ASSERT_EQ(panels.size(), 6u);  // 2 shapes x (average + 2 suites)
  EXPECT_EQ(panels[0].shape, "1024:256");
  EXPECT_EQ(panels[0].suite, "average");
  EXPECT_FALSE(panels[0].log_x);  // 1x .. 2.4x
  EXPECT_EQ(panels[3].shape, "8192:1024");
  EXPECT_TRUE(panels[3].log_x);  // 1x .. 5.2x passes 5x
  for (const auto& p : panels[0].points) {
    if (p.model == "teacher") {
      EXPECT_DOUBLE_EQ(p.x, 1.0);
    }
    EXPECT_EQ(p.frontier, p.model != "H-30b") << p.model;
  }
}

TEST_F(ParetoStudy, GoldenParetoSvgAndReportFiles) {
  ResultsDb db(db_path_);
  ReportOptions o;
  o.out_dir = dir_ + "/out";
  write_report(db, o);
  std::string svg = read_file(dir_ + "/out/pareto.svg");
  expect_golden("pareto.svg", svg);
  EXPECT_NE(svg.find("H-30 (30/50 Mamba)"), std::string::npos);
  EXPECT_NE(svg.find("(log scale)"), std::string::npos);
  std::string html = read_file(dir_ + "/out/index.html");
  EXPECT_NE(html.find("<svg id=\"pareto\""), std::string::npos);
  EXPECT_NE(html.find("Recommended: H-25"), std::string::npos);
  EXPECT_NE(html.find("0123456789ab"), std::string::npos);                   // provenance: git sha
  EXPECT_NE(html.find("hash-gsm8kchat0"), std::string::npos);                // prompt hash
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));  // no network references
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  // Byte-identical on a second run.
  o.out_dir = dir_ + "/out2";
  write_report(db, o);
  EXPECT_EQ(read_file(dir_ + "/out2/index.html"), html);
  EXPECT_EQ(read_file(dir_ + "/out2/pareto.svg"), svg);
}

}  // namespace
}  // namespace hb::reports
