// Opens index.html in headless Chromium at 1400 px wide: the page must load and render to a PNG, and a small
// harness (the page plus a measuring script, written only for this test) reads the real rendered boxes of the
// point labels with getBBox() and the on-screen font sizes, so overlapping labels or text under 11 px fail.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "harness/base/files.h"
#include "reports/report.h"
#include "reports/results_db.h"
#include "tests/reports/fixture_db.h"
#include "tests/reports/golden.h"

namespace hb::reports {
namespace {

std::string find_chromium() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"})
    if (std::filesystem::exists(p)) return p;
  return "";
}

// Runs after load: per <g class="chart">, every pair of point labels must not intersect (0.5 px tolerance) and
// each label must stay inside its chart; every text's font size times the SVG's on-screen scale is >= 11 px.
const char* kMeasure = R"JS(<script>
(function () {
  const res = {labels: 0, overlaps: [], outside: [], minFont: 1e9, minFontText: "", svgs: 0};
  for (const svg of document.querySelectorAll("svg")) {
    res.svgs++;
    const vb = svg.viewBox.baseVal;
    const scale = vb && vb.width ? svg.getBoundingClientRect().width / vb.width : 1;
    for (const t of svg.querySelectorAll("text")) {
      const fs = parseFloat(t.getAttribute("font-size") || getComputedStyle(t).fontSize) * scale;
      if (fs < res.minFont) { res.minFont = fs; res.minFontText = t.textContent; }
    }
    for (const g of svg.querySelectorAll("g.chart")) {
      const frame = g.querySelector("rect").getBBox();
      const boxes = [...g.querySelectorAll("text.point-label")].map(t => ({t: t.textContent, b: t.getBBox()}));
      res.labels += boxes.length;
      for (let i = 0; i < boxes.length; i++) {
        const a = boxes[i].b;
        if (a.x < frame.x || a.y < frame.y || a.x + a.width > frame.x + frame.width ||
            a.y + a.height > frame.y + frame.height) res.outside.push(boxes[i].t);
        for (let j = 0; j < i; j++) {
          const b = boxes[j].b;
          const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
          const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
          if (w > 0.5 && h > 0.5) res.overlaps.push(boxes[i].t + " / " + boxes[j].t);
        }
      }
    }
  }
  const pre = document.createElement("pre");
  pre.id = "hb-measure";
  pre.textContent = "HBMEASURE" + JSON.stringify(res) + "HBEND";
  document.body.appendChild(pre);
})();
</script>)JS";

class HtmlPage : public ::testing::Test {
 protected:
  void SetUp() override {
    chromium_ = find_chromium();
    if (chromium_.empty()) GTEST_SKIP() << "no chromium binary (apt-get install chromium) - page not rendered";
    dir_ = testing::temp_dir("html");
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::string flags() const {
    return " --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars --user-data-dir=" + dir_ +
           "/profile --window-size=1400,2600";
  }
  // Renders out/index.html to a PNG (kept at $keep_env when set) and returns the measurements.
  nlohmann::json render_and_measure(const std::string& out, const char* keep_env) {
    const std::string png = dir_ + "/page.png";
    std::string shot = "timeout 120 " + chromium_ + flags() + " --screenshot=" + png + " file://" + out +
                       "/index.html >" + dir_ + "/shot.log 2>&1";
    EXPECT_EQ(std::system(shot.c_str()), 0) << read_file(dir_ + "/shot.log");
    std::string bytes = file_exists(png) ? read_file(png) : "";
    EXPECT_GT(bytes.size(), 20000u) << "the screenshot is nearly empty";
    EXPECT_EQ(bytes.substr(1, 3), "PNG");
    if (const char* keep = std::getenv(keep_env))
      std::filesystem::copy_file(png, keep, std::filesystem::copy_options::overwrite_existing);
    if (const char* keep = std::getenv("HB_KEEP_REPORT_DIR"))  // the report files, to inspect or screenshot
      std::filesystem::copy(out, std::string(keep) + "/" + keep_env,
                            std::filesystem::copy_options::recursive | std::filesystem::copy_options::overwrite_existing);
    std::string page = read_file(out + "/index.html");
    auto at = page.rfind("</body>");
    write_file(out + "/measure.html", page.substr(0, at) + kMeasure + page.substr(at));
    std::string dom = dir_ + "/dom.html";
    std::string dump = "timeout 120 " + chromium_ + flags() + " --dump-dom file://" + out + "/measure.html >" + dom +
                       " 2>" + dir_ + "/dom.log";
    EXPECT_EQ(std::system(dump.c_str()), 0) << read_file(dir_ + "/dom.log");
    std::string html = read_file(dom);
    dom_ = html;
    // rfind: the script itself (kept in the DOM) holds the markers too.
    auto a = html.rfind("HBMEASURE{"), b = html.rfind("}HBEND");
    if (a == std::string::npos || b == std::string::npos) {
      ADD_FAILURE() << "the measuring script did not run";
      return nlohmann::json::object();
    }
    return nlohmann::json::parse(html.substr(a + 9, b + 1 - a - 9));
  }
  void expect_readable(const nlohmann::json& m, size_t min_labels) {
    ASSERT_TRUE(m.contains("labels"));
    EXPECT_GE(m["labels"].get<size_t>(), min_labels);
    EXPECT_TRUE(m["overlaps"].empty()) << "overlapping labels: " << m["overlaps"].dump();
    EXPECT_TRUE(m["outside"].empty()) << "labels outside their chart: " << m["outside"].dump();
    EXPECT_GE(m["minFont"].get<double>(), 11.0) << "smallest text: " << m["minFontText"];
  }
  std::string chromium_, dir_, dom_;
};

TEST_F(HtmlPage, FamilyPageRendersWithARecommendationAndNoOverlappingLabels) {
  testing::build_family_fixture(dir_ + "/f.db");
  ResultsDb db(dir_ + "/f.db");
  ReportOptions o;
  o.out_dir = dir_ + "/out";
  o.gate_policy = nlohmann::json::parse(testing::kFamilyGatePolicy);
  o.gate_source = "family.json";
  write_report(db, o);
  auto m = render_and_measure(o.out_dir, "HB_KEEP_SCREENSHOT");
  expect_readable(m, 10 * 5);
  EXPECT_NE(dom_.find("<svg id=\"pareto\""), std::string::npos) << "the loaded DOM has no Pareto SVG";
  EXPECT_NE(dom_.find("<svg id=\"throughput\""), std::string::npos);
  EXPECT_NE(dom_.find("<svg id=\"latency\""), std::string::npos);
  EXPECT_NE(dom_.find("Recommended: H-30"), std::string::npos);
}

TEST_F(HtmlPage, TinyPageRendersNoDecision) {
  testing::build_tiny_fixture(dir_ + "/q.db");
  ResultsDb db(dir_ + "/q.db");
  ReportOptions o;
  o.out_dir = dir_ + "/out";
  o.baseline = "teacher";
  write_report(db, o);
  auto m = render_and_measure(o.out_dir, "HB_KEEP_SCREENSHOT_TINY");
  expect_readable(m, 5 * 4);
  EXPECT_NE(dom_.find("No decision: too little data."), std::string::npos);
}

}  // namespace
}  // namespace hb::reports
