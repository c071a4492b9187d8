// GPQA-Diamond: the seeded option permutation (deterministic, correct letter balanced over A-D), gold
// letters as completions, and letter extraction that never counts a stray "a". The questions are read from
// the shared datasets folder at run time; none are copied into the repository.
#include "suites/gpqa/gpqa_suite.h"

#include <map>

#include <gtest/gtest.h>

#include "datasets/catalog.h"
#include "suites/common/choice_extract.h"
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

std::optional<std::string> first(const std::vector<Extraction>& ex) {
  for (const auto& e : ex)
    if (e.value) return e.value;
  return std::nullopt;
}

std::vector<std::string> hostile_texts() {
  std::string nested;
  for (int i = 0; i < 5000; ++i) nested += "\\boxed{";
  return {std::string("\xff\xfe Answer: \xc3\x28"), std::string(1 << 20, 'A'), std::string(1 << 20, '9'),
          "Answer: " + std::string(1 << 20, ' ') + "B", nested, std::string(1 << 20, '{'), std::string(),
          std::string("<think>") + std::string(1 << 20, 'x')};
}

TEST(Gpqa, PermutationIsDeterministicAndBalanced) {
  datasets::Catalog catalog(HB_TEST_DATASETS_DIR, false);
  auto suite = make_gpqa_suite({});
  auto items = suite->load(catalog);
  ASSERT_EQ(items.size(), 198u);
  auto again = make_gpqa_suite({})->load(catalog);
  std::map<std::string, int> letters;
  for (size_t i = 0; i < items.size(); ++i) {
    EXPECT_EQ(items[i].fields.at("permutation"), again[i].fields.at("permutation"));
    letters[items[i].fields.at("correct_letter").get<std::string>()]++;
    // The correct answer text appears in the prompt under the correct letter.
    std::string prompt = suite->prompt(items[i]).user_turns.at(0);
    std::string correct = items[i].fields.at("options").at(0).get<std::string>();
    std::string letter = items[i].fields.at("correct_letter").get<std::string>();
    EXPECT_NE(prompt.find("\n" + letter + ") " + correct), std::string::npos) << items[i].id;
  }
  for (const char* l : {"A", "B", "C", "D"}) {
    EXPECT_GE(letters[l], 49) << l;
    EXPECT_LE(letters[l], 50) << l;
  }
  // Not the same slot pattern for every item (the evalchemy "always D" bug).
  std::set<std::string> orders;
  for (const auto& it : items) orders.insert(it.fields.at("permutation").get<std::string>());
  EXPECT_GT(orders.size(), 20u);
}

TEST(Gpqa, GoldLettersScoreHundredPercentAndWrongLettersZero) {
  datasets::Catalog catalog(HB_TEST_DATASETS_DIR, false);
  auto suite = make_gpqa_suite({});
  auto items = suite->load(catalog);
  ScoringContext ctx;
  int ok = 0;
  for (const auto& item : items) {
    std::string l = item.fields.at("correct_letter").get<std::string>();
    Grade g = suite->grade(item, answer("Let me think about a solution.\nAnswer: " + l), ctx);
    ok += g.scores.at("accuracy") == 1.0;
    std::string wrong(1, l[0] == 'A' ? 'B' : 'A');
    Grade w = suite->grade(item, answer("Answer: " + wrong), ctx);
    EXPECT_EQ(w.scores.at("accuracy"), 0.0);
    bool has_perm = false;
    for (const auto& e : g.extractions) has_perm = has_perm || e.name == "permutation";
    EXPECT_TRUE(has_perm) << "the permutation is stored with the sample";
  }
  EXPECT_EQ(ok, 198);
}

TEST(Gpqa, ChoiceExtraction) {
  EXPECT_EQ(first(extract_choice("blah\nAnswer: C", "ABCD")), "C");
  EXPECT_EQ(first(extract_choice("**Answer:** (B)", "ABCD")), "B");
  EXPECT_EQ(first(extract_choice("The answer is D.", "ABCD")), "D");
  EXPECT_EQ(first(extract_choice("Answer: $\\boxed{A}$", "ABCD")), "A");
  EXPECT_EQ(first(extract_choice("so it is \\boxed{\\text{C}}", "ABCD")), "C");
  EXPECT_EQ(first(extract_choice("reasoning...\n\nB", "ABCD")), "B");
  EXPECT_EQ(first(extract_choice("Answer: A\nlater I said Answer: B", "ABCD")), "B") << "the last anchor wins";
  // Never a stray word.
  EXPECT_EQ(first(extract_choice("This is a hard question and a good one.", "ABCD")), std::nullopt);
  EXPECT_EQ(first(extract_choice("the answer is a compound with a ring", "ABCD")), std::nullopt);
  EXPECT_EQ(first(extract_choice("Answer: Absolutely not sure", "ABCD")), std::nullopt);
  EXPECT_EQ(first(extract_choice("I think so.\nA lot of work", "ABCD")), std::nullopt);
  EXPECT_EQ(first(extract_choice("Answer: E", "ABCD")), std::nullopt);
  EXPECT_EQ(first(extract_choice("", "ABCD")), std::nullopt);
}

TEST(Gpqa, ChoiceExtractionCases) {
  for (const auto& c : testing::read_cases("gpqa/choice_extraction.cases", 2)) {
    auto got = first(extract_choice(c.fields[0], "ABCD"));
    std::string want = c.fields[1];
    EXPECT_EQ(got.value_or("none"), want) << "choice_extraction.cases:" << c.line << " '" << c.fields[0] << "'";
  }
}

TEST(Gpqa, HostileCompletionsAreGradedWithAReason) {
  datasets::Catalog catalog(HB_TEST_DATASETS_DIR, false);
  auto suite = make_gpqa_suite({});
  auto items = suite->load(catalog);
  ScoringContext ctx;
  for (const auto& text : hostile_texts()) {
    Grade g = suite->grade(items[0], answer(text), ctx);
    EXPECT_EQ(g.scores.count("accuracy"), 1u);
    EXPECT_FALSE(g.reason.empty());
  }
}

}  // namespace
}  // namespace hb::suites
