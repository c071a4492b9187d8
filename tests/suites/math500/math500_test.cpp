// MATH500 through the Suite interface: gold solutions as completions, both prompt variants, reasoning
// traces, truncation, and hostile completions (non-UTF-8, 1 MB, deeply nested or unbalanced LaTeX).
#include "suites/math500/math500_suite.h"

#include <chrono>
#include <ctime>

#include <gtest/gtest.h>

#include "datasets/catalog.h"
#include "harness/base/strings.h"
#include "suites/math/math_equal.h"
#include "tests/suites/case_lines.h"

namespace hb::suites {
namespace {

Completion answer(const std::string& text, const std::string& finish = "stop") {
  Completion c;
  c.turns = {text};
  c.reasoning = {""};
  c.finish_reasons = {finish};
  return c;
}

class Math500 : public ::testing::Test {
 protected:
  void SetUp() override {
    datasets::Catalog catalog(HB_TEST_DATASETS_DIR, false);
    suite = make_math500_suite({});
    items = suite->load(catalog);
  }
  std::unique_ptr<Suite> suite;
  std::vector<Item> items;
  ScoringContext ctx;
};

TEST_F(Math500, GoldSolutionsScoreHundredPercent) {
  ASSERT_EQ(items.size(), 500u);
  int ok = 0;
  for (const auto& item : items) {
    Grade g = suite->grade(item, answer(item.fields.at("solution").get<std::string>()), ctx);
    ok += g.scores.at("accuracy") == 1.0;
    if (g.scores.at("accuracy") != 1.0) ADD_FAILURE() << item.id << ": " << g.reason;
    EXPECT_FALSE(g.reason.empty());
  }
  EXPECT_EQ(ok, 500);
}

// Whole solution texts adjudicated by hand (tests/data/suites/math500/whole_text.cases): extraction order,
// equivalence and the truncation rule together, through the suite.
TEST_F(Math500, WholeTextRegressionCases) {
  int n = 0;
  for (const auto& c : testing::read_cases("math500/whole_text.cases", 5)) {
    Item item{"case", {{"answer", c.fields[1]}, {"problem", ""}, {"unique_id", "case"}}};
    Grade g = suite->grade(item, answer(c.fields[0], std::string(trim(c.fields[3]))), ctx);
    bool expect = trim(c.fields[2]) == "yes";
    EXPECT_EQ(g.scores.at("accuracy") == 1.0, expect) << "whole_text.cases:" << c.line << " gold '" << c.fields[1]
                                                      << "': " << g.reason;
    EXPECT_EQ(g.scores.at("truncated") == 1.0, trim(c.fields[3]) == "length") << "whole_text.cases:" << c.line;
    ++n;
  }
  EXPECT_GE(n, 30);
}

TEST_F(Math500, GoldAnswersInEveryExtractionFormat) {
  for (size_t i = 0; i < items.size(); i += 7) {
    std::string a = items[i].fields.at("answer").get<std::string>();
    for (const std::string& text : {"Thus the answer is $\\boxed{" + a + "}$.",
                                    "Final Answer: The final answer is $" + a + "$. I hope it is correct.",
                                    "<think>maybe 12345</think>\nSo we get \\boxed{" + a + "}",
                                    "[BEGIN FINAL RESPONSE]\\boxed{" + a + "}[END FINAL RESPONSE]"}) {
      Grade g = suite->grade(items[i], answer(text), ctx);
      EXPECT_EQ(g.scores.at("accuracy"), 1.0) << items[i].id << " '" << text << "': " << g.reason;
    }
  }
}

TEST_F(Math500, ReasoningTraceIsNotSearched) {
  const Item& item = items[0];
  std::string a = item.fields.at("answer").get<std::string>();
  // The right answer only inside an unterminated trace: truncated, and wrong.
  Grade g = suite->grade(item, answer("<think>the answer is \\boxed{" + a + "} probably", "length"), ctx);
  EXPECT_EQ(g.scores.at("accuracy"), 0.0);
  EXPECT_TRUE(g.truncated);
  EXPECT_NE(g.reason.find("truncated"), std::string::npos);
  Grade g2 = suite->grade(item, answer("\\boxed{" + a + "} and more text", "length"), ctx);
  EXPECT_TRUE(g2.truncated);
}

TEST_F(Math500, MinervaVariantIsAFourShotCompletion) {
  datasets::Catalog catalog(HB_TEST_DATASETS_DIR, false);
  auto minerva = make_math500_suite({"minerva4", {}});
  auto its = minerva->load(catalog);
  PromptPlan p = minerva->prompt(its[0]);
  ASSERT_TRUE(p.raw_prompt.has_value());
  size_t n = 0;
  for (size_t pos = 0; (pos = p.raw_prompt->find("Problem:\n", pos)) != std::string::npos; ++pos) ++n;
  EXPECT_EQ(n, 5u);
  EXPECT_TRUE(ends_with(*p.raw_prompt, "Solution:"));
  EXPECT_EQ(p.stop, std::vector<std::string>{"Problem:"});
  EXPECT_NE(minerva->prompt_hash(), suite->prompt_hash());
}

TEST_F(Math500, HostileCompletionsAreWrongWithAReasonAndFast) {
  const Item& item = items[0];
  std::string nested;
  for (int i = 0; i < 5000; ++i) nested += "\\frac{";
  std::string parens(200000, '(');
  std::vector<std::string> hostile = {
      std::string("\xff\xfe\\boxed{\xc3\x28}"),
      std::string(1 << 20, '9'),
      "\\boxed{" + std::string(1 << 20, '1') + "}",
      "\\boxed{" + nested + "1",
      "\\boxed{" + nested + "1" + std::string(5000, '}') + "}",
      "\\boxed{" + parens + "}",
      "\\boxed{\\sqrt{\\sqrt{\\sqrt{\\sqrt{\\sqrt{\\sqrt{\\sqrt{\\sqrt{\\sqrt{\\sqrt{\\sqrt{\\sqrt{2}}}}}}}}}}}}}",
      "\\boxed{2^{2^{2^{2^{2^{2^{2^{2}}}}}}}}",
      "\\boxed{10^{10^{10}}}",
      "\\boxed{}",
      "}}}}{{{{\\boxed",
      std::string(1 << 20, '{'),
  };
  for (const auto& text : hostile) {
    // Thread CPU time, not wall time: the test machines are shared and the bound is about work done.
    timespec a{}, b{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
    Grade g = suite->grade(item, answer(text), ctx);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
    double ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
    EXPECT_EQ(g.scores.at("accuracy"), 0.0) << g.reason;
    EXPECT_FALSE(g.reason.empty());
    EXPECT_LT(ms, 500) << "took " << ms << " ms of CPU on input of " << text.size() << " bytes";
  }
}

TEST(MathEqual, DeeplyNestedInputsDoNotOverflowTheStack) {
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "(";
  deep += "1";
  for (int i = 0; i < 100000; ++i) deep += ")";
  auto v = math::math_equal("1", deep.substr(0, 3990));
  EXPECT_FALSE(v.equal);
  EXPECT_FALSE(v.reason.empty());
  std::string braces;
  for (int i = 0; i < 1000; ++i) braces += "{";
  auto w = math::math_equal("1", braces + "1");
  EXPECT_FALSE(w.equal);
}

}  // namespace
}  // namespace hb::suites

namespace hb::suites {
namespace {

// The truncation rule and the truncation_rate metric (docs/SUITES.md): a cut sample counts only with an
// explicit final answer, its fallback verdict stays in the reason, and the suite reports the cut share.
TEST(Math500Truncation, RuleAndRate) {
  auto suite = make_math500_suite({});
  ScoringContext ctx;
  Item item{"t", {{"answer", "7"}, {"problem", ""}, {"unique_id", "t"}}};
  auto grade = [&](const std::string& text, const std::string& finish) {
    Completion c;
    c.turns = {text};
    c.reasoning = {""};
    c.finish_reasons = {finish};
    return suite->grade(item, c, ctx);
  };
  Grade cut_fallback = grade("so far $3 + 4 = 7$ and then", "length");
  EXPECT_EQ(cut_fallback.scores.at("accuracy"), 0.0);
  EXPECT_NE(cut_fallback.reason.find("would be correct"), std::string::npos) << cut_fallback.reason;
  bool stored = false;
  for (const auto& e : cut_fallback.extractions) stored = stored || (e.name == "math_span" && e.value);
  EXPECT_TRUE(stored) << "the fallback extraction is still stored";
  EXPECT_EQ(grade("so far $3 + 4 = 7$ and then", "stop").scores.at("accuracy"), 1.0) << "not cut: the fallback counts";
  EXPECT_EQ(grade("The answer is $\\boxed{7}$. Let me check", "length").scores.at("accuracy"), 1.0);

  std::vector<SampleScore> samples;
  for (int i = 0; i < 4; ++i) {
    Grade g = grade("\\boxed{7}", i == 0 ? "length" : "stop");
    samples.push_back({"item" + std::to_string(i), 0, g.scores});
  }
  bool found = false;
  for (const auto& m : suite->aggregate(samples))
    if (m.metric == "truncation_rate") {
      found = true;
      EXPECT_DOUBLE_EQ(m.value, 0.25);
      EXPECT_EQ(m.n, 4u);
    }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace hb::suites
