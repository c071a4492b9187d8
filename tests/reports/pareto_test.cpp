#include "reports/pareto.h"
#include "reports/label_placement.h"

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
  for (const auto& p : panels)
    for (const auto& pt : p.points) EXPECT_GT(pt.n, 0) << pt.model;
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
  // The default gate (labelled as such) cannot decide: aime has 30 problems, under the 100-item minimum.
  EXPECT_NE(html.find("No decision: too little data."), std::string::npos);
  EXPECT_NE(html.find("default gate (the study has no gate policy)"), std::string::npos);
  EXPECT_NE(html.find("aime: n=30 paired items &lt; min_items 100"), std::string::npos);
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

namespace hb::reports {
namespace {

// Every <text class="point-label"> of an SVG with its estimated box, per chart (<g class="chart">).
struct SvgLabel {
  size_t chart;
  std::string text;
  Box box;
};
std::vector<SvgLabel> svg_labels(const std::string& svg) {
  std::vector<SvgLabel> out;
  size_t chart = 0, pos = 0;
  while (true) {
    size_t g = svg.find("<g class=\"chart\">", pos), t = svg.find("<text class=\"point-label\"", pos);
    if (t == std::string::npos) break;
    if (g != std::string::npos && g < t) {
      ++chart;
      pos = g + 1;
      continue;
    }
    auto attr = [&](const std::string& name) {
      size_t a = svg.find(name + "=\"", t);
      return std::stod(svg.substr(a + name.size() + 2));
    };
    double x = attr(" x"), y = attr(" y"), fs = attr(" font-size");
    size_t open = svg.find('>', t) + 1;
    std::string text = svg.substr(open, svg.find("</text>", open) - open);
    Box b = text_box(text, fs);
    b.x = x - 2;
    b.y = y - 0.98 * fs;
    out.push_back({chart, text, b});
    pos = open;
  }
  return out;
}

std::vector<double> font_sizes(const std::string& svg) {
  std::vector<double> out;
  for (size_t p = svg.find("font-size=\""); p != std::string::npos; p = svg.find("font-size=\"", p + 1))
    out.push_back(std::stod(svg.substr(p + 11)));
  return out;
}

TEST(LabelPlacement, CrowdedPointsGetSeparateBoxesInsideTheArea) {
  // Five labels on nearly the same spot (H-25, H-30, H-40 at almost the same x and y), plus one at the edge.
  std::vector<LabelRequest> req = {{300, 200, "H-25 (25/50 Mamba)"}, {303, 201, "H-30 (30/50 Mamba)"},
                                   {306, 199, "H-40 (40/50 Mamba)"}, {304, 203, "H-30b (30/50 Mamba)"},
                                   {301, 198, "teacher (0/50 Mamba)"}, {598, 60, "H-50 (50/50 Mamba)"}};
  Box area{50, 50, 550, 300};
  std::vector<Box> markers;
  for (const auto& r : req) markers.push_back({r.px - 6, r.py - 6, 12, 12});
  auto placed = place_labels(req, area, markers, 12);
  ASSERT_EQ(placed.size(), req.size());
  for (size_t i = 0; i < placed.size(); ++i) {
    EXPECT_FALSE(placed[i].overlaps) << req[i].text;
    EXPECT_NEAR(overlap(placed[i].box, area), placed[i].box.area(), 1e-6) << req[i].text << " leaves the area";
    for (const auto& m : markers) EXPECT_EQ(overlap(placed[i].box, m), 0.0) << req[i].text << " covers a marker";
    for (size_t j = 0; j < i; ++j) EXPECT_EQ(overlap(placed[i].box, placed[j].box), 0.0) << i << " vs " << j;
  }
  // Labels pushed off the first ring are tied to their point.
  bool any_leader = false;
  for (const auto& p : placed) any_leader = any_leader || p.leader;
  EXPECT_TRUE(any_leader);
}

TEST(ParetoLayout, TwoPanelsPerRowReadableFontsPointsAndNoOverlaps) {
  std::string dir = testing::temp_dir("layout");
  testing::build_family_fixture(dir + "/f.db");
  ResultsDb db(dir + "/f.db");
  auto study = collect_study(db, db.runs(), "teacher");
  auto panels = compute_pareto(study);
  ASSERT_EQ(panels.size(), 10u);  // 2 shapes x (average + 4 suites)
  double w = 0, h = 0;
  std::string body = render_pareto_body(panels, w, h);
  EXPECT_LE(w, 1340.0) << "wider than the page at 1400 px: the browser would shrink the text";
  EXPECT_DOUBLE_EQ(h, 6 * 450.0);  // per shape: 3 rows of at most 2 panels
  for (double fs : font_sizes(body)) EXPECT_GE(fs, 11.0);
  auto labels = svg_labels(body);
  EXPECT_EQ(labels.size(), 10u * 5u);
  for (size_t i = 0; i < labels.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (labels[i].chart == labels[j].chart)
        EXPECT_EQ(overlap(labels[i].box, labels[j].box), 0.0)
            << labels[i].text << " and " << labels[j].text << " overlap in chart " << labels[i].chart;
  // y in points with intervals inside 0-100; x labelled with its unit.
  EXPECT_NE(body.find("score (points, 0-100)"), std::string::npos);
  EXPECT_NE(body.find("peak output tok/s relative to teacher (teacher = 1x = "), std::string::npos);
  for (const auto& p : panels)
    for (const auto& pt : p.points) {
      EXPECT_GE(pt.y_low, 0.0);
      EXPECT_LE(pt.y_high, 1.0);
      EXPECT_LE(pt.y_low, pt.y);
      EXPECT_GE(pt.y_high, pt.y);
    }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hb::reports
