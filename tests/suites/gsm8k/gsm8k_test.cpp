#include "suites/gsm8k/gsm8k_suite.h"

#include <gtest/gtest.h>

#include "datasets/catalog.h"
#include "suites/common/number_normalize.h"
#include "suites/common/reasoning.h"

namespace hb::suites {
namespace {

Completion answer(const std::string& text, const std::string& finish = "stop") {
  Completion c;
  c.turns = {text};
  c.reasoning = {""};
  c.finish_reasons = {finish};
  return c;
}

TEST(Gsm8k, AllGoldSolutionsGradeAsCorrectUnderBothExtractions) {
  datasets::Catalog catalog(HB_TEST_DATASETS_DIR, false);
  auto suite = make_gsm8k_suite({});
  auto items = suite->load(catalog);
  ASSERT_EQ(items.size(), 1319u);
  ScoringContext ctx;
  int strict = 0, flexible = 0;
  for (const auto& item : items) {
    auto g = suite->grade(item, answer(item.fields["answer"].get<std::string>()), ctx);
    strict += g.scores.at("accuracy/strict") == 1.0;
    flexible += g.scores.at("accuracy/flexible") == 1.0;
    if (g.scores.at("accuracy/strict") != 1.0) ADD_FAILURE() << "item " << item.id << ": " << g.reason;
  }
  EXPECT_EQ(strict, 1319);
  EXPECT_EQ(flexible, 1319);
}

TEST(Gsm8k, NumberNormalisation) {
  EXPECT_EQ(normalize_number("1,234"), "1234");
  EXPECT_EQ(normalize_number("$18."), "18");
  EXPECT_EQ(normalize_number("2.50"), "2.5");
  EXPECT_EQ(normalize_number("-0"), "0");
  EXPECT_EQ(normalize_number("\xE2\x88\x92" "3"), "-3");
  EXPECT_EQ(normalize_number("+7"), "7");
  EXPECT_EQ(normalize_number("abc"), std::nullopt);
  EXPECT_EQ(normalize_number("1.2.3"), std::nullopt);
  EXPECT_TRUE(numbers_equal("18.00", "18"));
  EXPECT_FALSE(numbers_equal("18.01", "18"));
  EXPECT_EQ(last_number("So she pays $1,250.00 in total."), "1250");
  EXPECT_EQ(last_number("The answer is -5."), "-5");
  EXPECT_EQ(last_number("no digits"), std::nullopt);
}

TEST(Gsm8k, StrictAndFlexibleDiffer) {
  auto s = gsm8k_extract_strict("First 3 apples, then 5.\n#### 8\nCheck: 8 = 3 + 5");
  EXPECT_EQ(s.value, "8");
  auto f = gsm8k_extract_flexible("First 3 apples, then 5.\n#### 8\nCheck: 8 = 3 + 5");
  EXPECT_EQ(f.value, "5");
  EXPECT_EQ(gsm8k_extract_strict("The answer is 12").value, std::nullopt);
  EXPECT_EQ(gsm8k_extract_strict("#### $1,000.").value, "1000");
}

TEST(Gsm8k, ReasoningTraceIsStrippedBeforeExtraction) {
  auto suite = make_gsm8k_suite({});
  Item item{"0", {{"question", "q"}, {"answer", "work\n#### 42"}}};
  ScoringContext ctx;
  // The trace mentions a wrong final line; only the answer after </think> counts.
  auto g = suite->grade(item, answer("<think>maybe #### 41</think>\nThe total is 42.\n#### 42"), ctx);
  EXPECT_EQ(g.scores["accuracy/strict"], 1.0);
  EXPECT_NE(g.reasoning_text.find("#### 41"), std::string::npos);
  auto apriel = suite->grade(
      item, answer("Here are my reasoning steps: 40 #### 40\n[BEGIN FINAL RESPONSE]\n#### 42\n[END FINAL RESPONSE]<|end|>"), ctx);
  EXPECT_EQ(apriel.scores["accuracy/strict"], 1.0);
  EXPECT_EQ(apriel.scores["accuracy/flexible"], 1.0);
  auto cut = suite->grade(item, answer("<think>working 42 ...", "length"), ctx);
  EXPECT_EQ(cut.scores["accuracy/flexible"], 0.0);
  EXPECT_TRUE(cut.truncated);
}

TEST(Gsm8k, EmptyAndHostileCompletionsGradeAsWrong) {
  auto suite = make_gsm8k_suite({});
  Item item{"0", {{"question", "q"}, {"answer", "#### 7"}}};
  ScoringContext ctx;
  EXPECT_EQ(suite->grade(item, answer(""), ctx).scores["accuracy/strict"], 0.0);
  EXPECT_EQ(suite->grade(item, answer(std::string(1 << 20, '9')), ctx).scores["accuracy/flexible"], 0.0);
  EXPECT_EQ(suite->grade(item, answer("\xFF\xFE #### 7"), ctx).scores["accuracy/strict"], 1.0);
}

TEST(Gsm8k, Cot8PromptHasEightFixedExemplars) {
  datasets::Catalog catalog(HB_TEST_DATASETS_DIR, false);
  auto suite = make_gsm8k_suite({"cot8", {}});
  auto items = suite->load(catalog);
  auto plan = suite->prompt(items[0]);
  ASSERT_EQ(plan.prefix.size(), 16u);
  EXPECT_EQ(plan.prefix[0].role, "user");
  EXPECT_EQ(plan.prefix[1].role, "assistant");
  EXPECT_EQ(plan.prefix[1].content.find("<<"), std::string::npos);
  EXPECT_NE(plan.prefix[1].content.find("####"), std::string::npos);
  EXPECT_NE(suite->prompt_hash(), make_gsm8k_suite({})->prompt_hash());
  EXPECT_THROW(make_gsm8k_suite({"bogus", {}}), Error);
}

TEST(Reasoning, MarkersAndDefaults) {
  auto s = split_reasoning("a</think>b</think> c ");
  EXPECT_TRUE(s.found);
  EXPECT_EQ(s.answer, "c");
  auto none = split_reasoning("plain answer");
  EXPECT_FALSE(none.found);
  EXPECT_EQ(none.answer, "plain answer");
  auto custom = split_reasoning("x<<END>>y", {"<<END>>"});
  EXPECT_EQ(custom.answer, "y");
}

}  // namespace
}  // namespace hb::suites
