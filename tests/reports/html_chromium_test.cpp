// Opens index.html in headless Chromium: the page must load, render to a PNG and hold the inline SVG.
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

TEST(HtmlPage, LoadsInHeadlessChromiumWithTheSvg) {
  std::string chromium = find_chromium();
  if (chromium.empty()) GTEST_SKIP() << "no chromium binary (apt-get install chromium) - page not rendered";
  std::string dir = testing::temp_dir("html");
  testing::build_study_fixture(dir + "/study.db");
  ResultsDb db(dir + "/study.db");
  ReportOptions o;
  o.out_dir = dir + "/out";
  write_report(db, o);
  const std::string page = "file://" + dir + "/out/index.html";
  const std::string flags =
      " --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars"
      " --user-data-dir=" +
      dir + "/profile --window-size=1500,2400";
  const std::string png = dir + "/page.png";
  std::string shot =
      "timeout 120 " + chromium + flags + " --screenshot=" + png + " " + page + " >" + dir + "/shot.log 2>&1";
  ASSERT_EQ(std::system(shot.c_str()), 0) << read_file(dir + "/shot.log");
  ASSERT_TRUE(std::filesystem::exists(png));
  std::string bytes = read_file(png);
  ASSERT_GT(bytes.size(), 20000u) << "the screenshot is nearly empty";
  EXPECT_EQ(bytes.substr(1, 3), "PNG");
  std::string dom = dir + "/dom.html";
  std::string dump = "timeout 120 " + chromium + flags + " --dump-dom " + page + " >" + dom + " 2>" + dir + "/dom.log";
  ASSERT_EQ(std::system(dump.c_str()), 0) << read_file(dir + "/dom.log");
  std::string html = read_file(dom);
  EXPECT_NE(html.find("<svg id=\"pareto\""), std::string::npos) << "the loaded DOM has no Pareto SVG";
  EXPECT_NE(html.find("<svg id=\"throughput\""), std::string::npos);
  EXPECT_NE(html.find("<svg id=\"latency\""), std::string::npos);
  EXPECT_NE(html.find("Recommended:"), std::string::npos);
  if (const char* keep = std::getenv("HB_KEEP_SCREENSHOT"))
    std::filesystem::copy_file(png, keep, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hb::reports
