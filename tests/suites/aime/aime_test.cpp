// AIME24/25: integer grading with padded golds, gold-as-completion, pass@k / maj@K / avg@K aggregation.
#include "suites/aime/aime_suite.h"

#include <cmath>

#include <gtest/gtest.h>

#include "harness/base/strings.h"

#include "datasets/catalog.h"
#include "suites/common/sampling_metrics.h"
#include "tests/suites/case_lines.h"

namespace hb::suites {
namespace {

Completion answer(const std::string& text) {
  Completion c;
  c.turns = {text};
  c.reasoning = {""};
  c.finish_reasons = {"stop"};
  return c;
}

std::vector<std::string> hostile_texts() {
  std::string nested;
  for (int i = 0; i < 5000; ++i) nested += "\\boxed{";
  return {std::string("\xff\xfe Answer: \xc3\x28"), std::string(1 << 20, 'A'), std::string(1 << 20, '9'),
          "Answer: " + std::string(1 << 20, ' ') + "B", nested, std::string(1 << 20, '{'), std::string(),
          std::string("<think>") + std::string(1 << 20, 'x')};
}

TEST(Aime, IntegerParsing) {
  EXPECT_EQ(aime_integer("073"), 73);
  EXPECT_EQ(aime_integer("\\boxed{25}"), 25);
  EXPECT_EQ(aime_integer("$25$"), 25);
  EXPECT_EQ(aime_integer("25.0"), 25);
  EXPECT_EQ(aime_integer("n = 104"), 104);
  EXPECT_EQ(aime_integer("1,000"), std::nullopt);
  EXPECT_EQ(aime_integer("25.5"), std::nullopt);
  EXPECT_EQ(aime_integer("-3"), std::nullopt);
  EXPECT_EQ(aime_integer("\\frac{1}{2}"), std::nullopt);
}

TEST(Aime, GoldAsCompletionScoresHundredPercentInBothYears) {
  datasets::Catalog catalog(HB_TEST_DATASETS_DIR, false);
  ScoringContext ctx;
  for (auto make : {make_aime24_suite, make_aime25_suite}) {
    auto suite = make({});
    auto items = suite->load(catalog);
    ASSERT_EQ(items.size(), 30u);
    EXPECT_EQ(suite->info().default_samples, 16);
    for (const auto& item : items) {
      std::string gold = item.fields.at("answer").is_string() ? item.fields.at("answer").get<std::string>() : item.fields.at("answer").dump();
      // Padded gold ("025") against an unpadded answer and the other way round.
      int v = std::stoi(gold);
      for (const std::string& text : {"so \\boxed{" + std::to_string(v) + "}", "\\boxed{" + gold + "}", "Answer: " + std::to_string(v)}) {
        Grade g = suite->grade(item, answer(text), ctx);
        EXPECT_EQ(g.scores.at("accuracy"), 1.0) << suite->info().name << " " << item.id << ": " << g.reason;
      }
      Grade wrong = suite->grade(item, answer("\\boxed{" + std::to_string((v + 1) % 1000) + "}"), ctx);
      EXPECT_EQ(wrong.scores.at("accuracy"), 0.0);
    }
  }
}

TEST(Aime, PassAtKIsTheUnbiasedEstimator) {
  EXPECT_DOUBLE_EQ(pass_at_k(16, 4, 1), 0.25);
  EXPECT_DOUBLE_EQ(pass_at_k(16, 0, 8), 0.0);
  EXPECT_DOUBLE_EQ(pass_at_k(16, 16, 16), 1.0);
  EXPECT_DOUBLE_EQ(pass_at_k(4, 1, 2), 0.5);        // 1 - C(3,2)/C(4,2) = 1 - 3/6
  EXPECT_NEAR(pass_at_k(10, 3, 5), 1.0 - 21.0 / 252.0, 1e-12);  // 1 - C(7,5)/C(10,5)
  EXPECT_DOUBLE_EQ(pass_at_k(5, 4, 2), 1.0);        // n - c < k
}

TEST(Aime, AggregateReportsAvgPassAndMajority) {
  auto suite = make_aime24_suite({});
  std::vector<SampleScore> samples;
  // Item a: 4 samples, answers 5,5,7,5, gold 5 -> 3 correct; item b: answers 1,2,2,none, gold 1 -> 1 correct.
  int a_ans[4] = {5, 5, 7, 5};
  for (int i = 0; i < 4; ++i) samples.push_back({"a", i, {{"accuracy", a_ans[i] == 5 ? 1.0 : 0.0}, {"answer", double(a_ans[i])}}});
  samples.push_back({"b", 0, {{"accuracy", 1.0}, {"answer", 1.0}}});
  samples.push_back({"b", 1, {{"accuracy", 0.0}, {"answer", 2.0}}});
  samples.push_back({"b", 2, {{"accuracy", 0.0}, {"answer", 2.0}}});
  samples.push_back({"b", 3, {{"accuracy", 0.0}}});
  auto m = suite->aggregate(samples);
  std::map<std::string, MetricValue> by;
  for (const auto& x : m) by[x.metric] = x;
  ASSERT_TRUE(by.count("accuracy") && by.count("pass@1") && by.count("pass@2") && by.count("pass@4") && by.count("maj@4"));
  EXPECT_DOUBLE_EQ(by["accuracy"].value, (0.75 + 0.25) / 2);
  EXPECT_NEAR(by["accuracy"].stderr_, 0.25, 1e-12);  // sd of {0.75, 0.25} = 0.3536, / sqrt(2)
  EXPECT_DOUBLE_EQ(by["pass@1"].value, 0.5);
  ASSERT_TRUE(by.count("avg@4"));
  EXPECT_DOUBLE_EQ(by["avg@4"].value, by["accuracy"].value);
  EXPECT_DOUBLE_EQ(by["pass@4"].value, 1.0);
  EXPECT_DOUBLE_EQ(by["maj@4"].value, 0.5);  // a: 5 wins (correct); b: 2 wins (wrong)
}

TEST(Aime, IntegerCases) {
  for (const auto& c : testing::read_cases("aime/integer.cases", 2)) {
    auto got = aime_integer(c.fields[0]);
    EXPECT_EQ(got ? std::to_string(*got) : "none", c.fields[1]) << "integer.cases:" << c.line << " '" << c.fields[0] << "'";
  }
}

// Whole texts adjudicated by hand (tests/data/suites/aime/whole_text.cases), through the suite.
TEST(Aime, WholeTextRegressionCases) {
  auto suite = make_aime24_suite({});
  ScoringContext ctx;
  int n = 0;
  for (const auto& c : testing::read_cases("aime/whole_text.cases", 5)) {
    Item item{"case", {{"answer", c.fields[1]}, {"problem", ""}, {"id", 1}}};
    Completion comp;
    comp.turns = {c.fields[0]};
    comp.reasoning = {""};
    comp.finish_reasons = {std::string(trim(c.fields[3]))};
    Grade g = suite->grade(item, comp, ctx);
    EXPECT_EQ(g.scores.at("accuracy") == 1.0, trim(c.fields[2]) == "yes") << "whole_text.cases:" << c.line << ": " << g.reason;
    ++n;
  }
  EXPECT_GE(n, 8);
}

TEST(Aime, HostileCompletionsAreGradedWithAReason) {
  datasets::Catalog catalog(HB_TEST_DATASETS_DIR, false);
  auto suite = make_aime24_suite({});
  auto items = suite->load(catalog);
  ScoringContext ctx;
  for (const auto& text : hostile_texts()) {
    Grade g = suite->grade(items[0], answer(text), ctx);
    EXPECT_EQ(g.scores.at("accuracy"), 0.0) << g.reason;
    EXPECT_FALSE(g.reason.empty());
  }
}

}  // namespace
}  // namespace hb::suites
