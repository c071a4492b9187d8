// MT-Bench with a fake judge: FastChat prompts and references, rating parsing, failed judgments stored as
// errors (never as scores), per-turn / per-category / overall averages.
#include "suites/mt_bench/mt_bench_suite.h"

#include <map>
#include <mutex>

#include <gtest/gtest.h>

#include "datasets/catalog.h"
#include "suites/common/judge.h"
#include "tests/suites/case_lines.h"

namespace hb::suites {
namespace {

class FakeJudge : public Judge {
 public:
  std::vector<std::vector<ChatMessage>> calls;
  std::vector<JudgeReply> replies;
  JudgeReply judge(const std::vector<ChatMessage>& messages) override {
    calls.push_back(messages);
    if (replies.empty()) return {std::string("Good. Rating: [[7]]"), "", ""};
    JudgeReply r = replies.front();
    replies.erase(replies.begin());
    return r;
  }
  std::string model_id() const override { return "fake-judge"; }
};

Completion two_turns(const std::string& a, const std::string& b) {
  Completion c;
  c.turns = {a, b};
  c.reasoning = {"", ""};
  c.finish_reasons = {"stop", "stop"};
  return c;
}

TEST(MtBench, RatingParsing) {
  EXPECT_EQ(parse_judge_rating("Rating: [[8]]"), 8.0);
  EXPECT_EQ(parse_judge_rating("Rating: [[8.5]]"), 8.5);
  EXPECT_EQ(parse_judge_rating("Rating: [9]"), 9.0);
  EXPECT_EQ(parse_judge_rating("[[3]] then [[9]]"), 3.0) << "FastChat takes the first match";
  EXPECT_EQ(parse_judge_rating("no rating here [[x]]"), std::nullopt);
  EXPECT_EQ(parse_judge_rating(""), std::nullopt);
}

TEST(MtBench, PlanTemperaturesAndJudgePrompts) {
  datasets::Catalog catalog(HB_TEST_DATASETS_DIR, false);
  auto suite = make_mt_bench_suite({});
  auto items = suite->load(catalog);
  ASSERT_EQ(items.size(), 80u);
  FakeJudge judge;
  ScoringContext ctx;
  ctx.judge = &judge;
  std::map<std::string, int> cats;
  for (const auto& item : items) {
    std::string cat = item.fields.at("category").get<std::string>();
    cats[cat]++;
    PromptPlan p = suite->prompt(item);
    EXPECT_EQ(p.user_turns.size(), 2u);
    ASSERT_TRUE(p.temperature.has_value());
    EXPECT_DOUBLE_EQ(*p.temperature, mt_bench_temperature(cat));
  }
  EXPECT_EQ(cats.size(), 8u);
  EXPECT_DOUBLE_EQ(mt_bench_temperature("writing"), 0.7);
  EXPECT_DOUBLE_EQ(mt_bench_temperature("stem"), 0.1);
  EXPECT_DOUBLE_EQ(mt_bench_temperature("math"), 0.0);

  // A math question: single-math-v1 with the GPT-4 reference; turn 2 uses the multi-turn prompt.
  const Item* math = nullptr;
  const Item* writing = nullptr;
  for (const auto& it : items) {
    if (!math && it.fields.at("category") == "math") math = &it;
    if (!writing && it.fields.at("category") == "writing") writing = &it;
  }
  Grade g = suite->grade(*math, two_turns("<think>hmm</think>first answer", "second answer"), ctx);
  ASSERT_EQ(judge.calls.size(), 2u);
  EXPECT_NE(judge.calls[0][1].content.find("[The Start of Reference Answer]"), std::string::npos);
  EXPECT_NE(judge.calls[0][1].content.find("first answer"), std::string::npos);
  EXPECT_EQ(judge.calls[0][1].content.find("hmm"), std::string::npos) << "the trace is stripped before judging";
  EXPECT_NE(judge.calls[1][1].content.find("### Reference answer:"), std::string::npos);
  EXPECT_NE(judge.calls[1][1].content.find("second answer"), std::string::npos);
  EXPECT_EQ(g.scores.at("turn1"), 7.0);
  EXPECT_EQ(g.scores.at("turn2"), 7.0);
  EXPECT_EQ(g.scores.at("category/math"), 7.0);

  judge.calls.clear();
  suite->grade(*writing, two_turns("a", "b"), ctx);
  ASSERT_EQ(judge.calls.size(), 2u);
  EXPECT_EQ(judge.calls[0][1].content.find("Reference Answer"), std::string::npos);
  EXPECT_EQ(judge.calls[0][0].content, "You are a helpful assistant.");
}

TEST(MtBench, FailedJudgmentsAreErrorsNeverScores) {
  datasets::Catalog catalog(HB_TEST_DATASETS_DIR, false);
  auto suite = make_mt_bench_suite({});
  auto items = suite->load(catalog);
  FakeJudge judge;
  judge.replies = {{std::nullopt, "", "HTTP 500"}, {std::string("I cannot rate this."), "", ""}};
  ScoringContext ctx;
  ctx.judge = &judge;
  Grade g = suite->grade(items[0], two_turns("a", "b"), ctx);
  EXPECT_EQ(g.scores.count("turn1"), 0u);
  EXPECT_EQ(g.scores.count("turn2"), 0u);
  EXPECT_NE(g.reason.find("HTTP 500"), std::string::npos);
  EXPECT_NE(g.reason.find("no [[rating]]"), std::string::npos);
  // Out of range is not a score either.
  judge.replies = {{std::string("[[11]]"), "", ""}, {std::string("[[0]]"), "", ""}};
  Grade h = suite->grade(items[0], two_turns("a", "b"), ctx);
  EXPECT_TRUE(h.scores.empty());
  // No judge at all: not scored.
  ScoringContext none;
  Grade n = suite->grade(items[0], two_turns("a", "b"), none);
  EXPECT_TRUE(n.scores.empty());
}

TEST(MtBench, AggregateMeansPerTurnCategoryAndOverall) {
  auto suite = make_mt_bench_suite({});
  std::vector<SampleScore> s = {
      {"81", 0, {{"turn1", 8}, {"turn2", 6}, {"category/writing", 7}}},
      {"82", 0, {{"turn1", 10}, {"category/writing", 10}}},  // turn 2 judgment failed: dropped
      {"101", 0, {{"turn1", 2}, {"turn2", 4}, {"category/math", 3}}},
  };
  std::map<std::string, MetricValue> by;
  for (const auto& m : suite->aggregate(s)) by[m.metric] = m;
  EXPECT_DOUBLE_EQ(by.at("score").value, (8 + 6 + 10 + 2 + 4) / 5.0);
  EXPECT_DOUBLE_EQ(by.at("turn1").value, (8 + 10 + 2) / 3.0);
  EXPECT_DOUBLE_EQ(by.at("turn2").value, 5.0);
  EXPECT_DOUBLE_EQ(by.at("category/writing").value, 8.0);
  EXPECT_DOUBLE_EQ(by.at("category/math").value, 3.0);
}

TEST(MtBench, RatingCases) {
  for (const auto& c : testing::read_cases("mt_bench/rating.cases", 2)) {
    auto got = parse_judge_rating(c.fields[0]);
    std::string s = "none";
    if (got) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%g", *got);
      s = buf;
    }
    EXPECT_EQ(s, c.fields[1]) << "rating.cases:" << c.line << " '" << c.fields[0] << "'";
  }
}

}  // namespace
}  // namespace hb::suites
