// MBPP: every test-split reference solution passes its own asserts in the sandbox (except the tasks listed
// in tests/data/suites/mbpp/broken_references.txt, each with its reason), code extraction, and the grade
// of hostile completions.
#include "suites/mbpp/mbpp_suite.h"

#include <fstream>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "datasets/catalog.h"
#include "harness/base/strings.h"
#include "harness/sandbox/sandbox_code_runner.h"
#include "suites/common/code_runner.h"

namespace hb::suites {
namespace {

Completion answer(const std::string& text, const std::string& finish = "stop") {
  Completion c;
  c.turns = {text};
  c.reasoning = {""};
  c.finish_reasons = {finish};
  return c;
}

std::map<std::string, std::string> broken_references() {
  std::map<std::string, std::string> out;
  std::ifstream in(std::string(HB_TEST_DATA_DIR) + "/suites/mbpp/broken_references.txt");
  std::string line;
  while (std::getline(in, line)) {
    if (trim(line).empty() || line[0] == '#') continue;
    auto tab = line.find(' ');
    out[line.substr(0, tab)] = tab == std::string::npos ? "" : line.substr(tab + 1);
  }
  return out;
}

sandbox::SandboxCodeRunner& runner() {
  // Wall and CPU limits above the defaults (10 s) so that the references test can give task 123 its 30 s;
  // the suite's own 10 s still applies to graded completions (the lower limit wins).
  static sandbox::SandboxCodeRunner r([] {
    sandbox::SandboxOptions o;
    o.limits.wall_s = 30;
    o.limits.cpu_s = 30;
    return o;
  }());
  return r;
}

TEST(Mbpp, EveryReferenceSolutionPassesExceptDocumentedOnes) {
  datasets::Catalog catalog(HB_TEST_DATASETS_DIR, false);
  auto suite = make_mbpp_suite({});
  auto items = suite->load(catalog);
  ASSERT_EQ(items.size(), 500u);
  std::vector<std::string> programs;
  for (const auto& item : items) {
    std::vector<std::string> tests;
    for (const auto& t : item.fields.at("test_list")) tests.push_back(t.get<std::string>());
    programs.push_back(mbpp_program(item.fields.value("test_setup_code", ""), item.fields.at("code").get<std::string>(), tests));
  }
  // 30 s rather than the suite's 10 s: task 123 (amicable numbers below 9999) needs 2-7 s of CPU and the
  // test machines are shared; this test is about the references being right, not fast.
  auto results = runner().run_all(programs, 30.0);
  auto broken = broken_references();
  int passed = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    bool ok = results[i].passed();
    passed += ok;
    bool listed = broken.count(items[i].id) > 0;
    if (!ok && !listed)
      ADD_FAILURE() << "task " << items[i].id << ": " << run_status_name(results[i].status) << " " << results[i].reason
                    << "\n" << results[i].stderr_tail;
    if (ok && listed) ADD_FAILURE() << "task " << items[i].id << " passes now; remove it from broken_references.txt";
  }
  EXPECT_EQ(passed + static_cast<int>(broken.size()), 500);
}

TEST(Mbpp, GoldAsCompletionScoresThroughTheSuite) {
  datasets::Catalog catalog(HB_TEST_DATASETS_DIR, false);
  auto suite = make_mbpp_suite({});
  auto items = suite->load(catalog);
  ScoringContext ctx;
  ctx.code_runner = &runner();
  // A handful through grade(): fenced, raw and [DONE] forms.
  for (size_t i = 0; i < 5; ++i) {
    std::string code = items[i].fields.at("code").get<std::string>();
    for (const std::string& text : {"Here you go:\n```python\n" + code + "\n```\nDone.", code + "\n[DONE]", code}) {
      Grade g = suite->grade(items[i], answer(text), ctx);
      EXPECT_EQ(g.scores.at("accuracy"), 1.0) << items[i].id << ": " << g.reason;
    }
  }
}

TEST(Mbpp, NoCodeRunnerMeansNotScored) {
  datasets::Catalog catalog(HB_TEST_DATASETS_DIR, false);
  auto suite = make_mbpp_suite({});
  auto items = suite->load(catalog);
  ScoringContext ctx;
  Grade g = suite->grade(items[0], answer("def f(): pass"), ctx);
  EXPECT_TRUE(g.scores.empty());
  EXPECT_NE(g.reason.find("no code runner"), std::string::npos);
}

TEST(Mbpp, HostileCompletionsAreFailedWithAReason) {
  datasets::Catalog catalog(HB_TEST_DATASETS_DIR, false);
  auto suite = make_mbpp_suite({});
  auto items = suite->load(catalog);
  ScoringContext ctx;
  ctx.code_runner = &runner();
  for (const std::string& text :
       {std::string("```python\nimport os\nwhile True:\n    os.fork()\n```"), std::string("```python\nimport time\ntime.sleep(10**6)\n```"),
        std::string("```python\nx = bytearray(10 * 1024**3)\n```"), std::string("\xff\xfe\x80 not utf-8 \xc3"),
        std::string(1 << 20, 'x'), std::string("")}) {
    Grade g = suite->grade(items[0], answer(text), ctx);
    EXPECT_EQ(g.scores.at("accuracy"), 0.0) << g.reason;
    EXPECT_FALSE(g.reason.empty());
  }
}

TEST(Mbpp, CodeExtraction) {
  EXPECT_EQ(mbpp_entry_point({"assert set(similar_elements((3, 4), (5, 4))) == set((4,))"}), "similar_elements");
  EXPECT_EQ(mbpp_entry_point({"assert math.isclose(area(2), 12.5, rel_tol=0.001)"}), "area");
  auto e = mbpp_extract_code("text\n```\nprint(1)\n```\n```python\ndef f(x):\n  return x\n```\n", "f");
  EXPECT_EQ(e.code, "def f(x):\n  return x\n");
  auto t = mbpp_extract_code("def f():\n  return 1\n[DONE]\nQuestion: more", "f");
  EXPECT_EQ(t.code, "def f():\n  return 1");
  auto u = mbpp_extract_code("```python\ndef f():\n  return 1\n", "f");  // cut by the token limit
  EXPECT_EQ(u.code, "def f():\n  return 1\n");
}

TEST(Mbpp, ThreeShotPromptUsesTasks234) {
  datasets::Catalog catalog(HB_TEST_DATASETS_DIR, false);
  auto suite = make_mbpp_suite({"3shot", {}});
  auto items = suite->load(catalog);
  PromptPlan p = suite->prompt(items[0]);
  ASSERT_TRUE(p.raw_prompt.has_value());
  auto count = [&](const std::string& needle) {
    int n = 0;
    for (size_t pos = 0; (pos = p.raw_prompt->find(needle, pos)) != std::string::npos; pos += needle.size()) ++n;
    return n;
  };
  EXPECT_EQ(count("[BEGIN]"), 4);
  EXPECT_EQ(count("[DONE]"), 3);
  EXPECT_EQ(p.stop, std::vector<std::string>{"[DONE]"});
  EXPECT_TRUE(ends_with(*p.raw_prompt, "[BEGIN]\n"));
}

}  // namespace
}  // namespace hb::suites
