// The native math grader: gold solutions of MATH500 grade as correct, and the data-driven case files of
// tricky equivalent and non-equivalent pairs (tests/data/suites/math/*.cases) hold.
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "harness/base/files.h"
#include "harness/base/strings.h"
#include "suites/math/math_equal.h"
#include "suites/common/reasoning.h"
#include "suites/math/math_extract.h"
#include "suites/math/math_grade.h"
#include "tests/suites/case_lines.h"

namespace hb::suites::math {
namespace {

TEST(MathGrader, Math500GoldSolutionsMatchTheirAnswers) {
  std::string path = std::string(HB_TEST_DATASETS_DIR) + "/math500/test.jsonl";
  int n = 0, ok = 0;
  std::string failures;
  for_each_jsonl(path, [&](size_t, const nlohmann::json& j) {
    ++n;
    std::string answer = j.at("answer");
    auto boxed = last_boxed(j.at("solution").get<std::string>());
    if (!boxed) {
      failures += j.at("unique_id").get<std::string>() + ": no boxed\n";
      return;
    }
    MathVerdict v = math_equal(answer, *boxed);
    if (v.equal) ++ok;
    else failures += j.at("unique_id").get<std::string>() + ": gold '" + answer + "' boxed '" + *boxed + "': " + v.reason + "\n";
  });
  EXPECT_EQ(n, 500);
  EXPECT_EQ(ok, n) << failures;
}

// Case file format: one case per line, fields separated by " ||| ":
//   GOLD ||| PRED ||| yes|no ||| note
// Lines starting with '#' and blank lines are ignored.
void run_cases(const std::string& file) {
  std::ifstream in(std::string(HB_TEST_DATA_DIR) + "/suites/math/" + file);
  ASSERT_TRUE(in) << file;
  std::string line;
  int lineno = 0, count = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (trim(line).empty() || line[0] == '#') continue;
    std::vector<std::string> f;
    size_t start = 0;
    while (true) {
      size_t p = line.find(" ||| ", start);
      f.emplace_back(line.substr(start, p == std::string::npos ? std::string::npos : p - start));
      if (p == std::string::npos) break;
      start = p + 5;
    }
    ASSERT_GE(f.size(), 3u) << file << ":" << lineno;
    bool expect = trim(f[2]) == "yes";
    MathVerdict v = math_equal(f[0], f[1]);
    EXPECT_EQ(v.equal, expect) << file << ":" << lineno << " gold '" << f[0] << "' pred '" << f[1] << "' reason: " << v.reason;
    EXPECT_FALSE(v.reason.empty());
    ++count;
  }
  EXPECT_GT(count, 0);
}

TEST(MathGrader, EquivalentPairs) { run_cases("equivalent.cases"); }
TEST(MathGrader, NonEquivalentPairs) { run_cases("non_equivalent.cases"); }

TEST(MathGrader, ExtractionCases) {
  const std::vector<std::string> chat = {"boxed", "minerva", "answer_line", "math_span", "last_number"};
  for (const auto& c : testing::read_cases("math/extraction.cases", 2)) {
    ReasoningSplit split = split_reasoning(c.fields[0]);
    MathGrade g = grade_math_answer("0", split.answer, chat);
    EXPECT_EQ(g.chosen.empty() ? "none" : g.value, c.fields[1]) << "extraction.cases:" << c.line << " '" << c.fields[0] << "'";
  }
}

}  // namespace
}  // namespace hb::suites::math

namespace hb::suites::math {
namespace {

// The named policies (math_equal.h), each tested both ways.
TEST(MathGrader, EquationMultiplesPolicyBothWays) {
  const std::string gold = "5x - 7y + 11z + 4 = 0";
  MathOptions positive;  // the default
  EXPECT_EQ(positive.equation_multiples, EquationMultiples::positive_multiple);
  EXPECT_FALSE(math_equal(gold, "-5x + 7y - 11z - 4 = 0", positive).equal) << "a negated multiple breaks the fixed sign";
  EXPECT_TRUE(math_equal(gold, "10x - 14y + 22z + 8 = 0", positive).equal);
  EXPECT_TRUE(math_equal(gold, "5x - 7y + 11z = -4", positive).equal);
  EXPECT_TRUE(math_equal("y = 2x + 3", "2x - y + 3 = 0", positive).equal) << "the sign is only fixed for '... = 0' golds";
  MathOptions any;
  any.equation_multiples = EquationMultiples::any_multiple;
  EXPECT_TRUE(math_equal(gold, "-5x + 7y - 11z - 4 = 0", any).equal);
  EXPECT_FALSE(math_equal(gold, "5x - 7y + 11z - 4 = 0", any).equal) << "a different plane under either policy";
}

TEST(MathGrader, UnreducedFractionPolicyBothWays) {
  MathOptions accept;  // the default
  EXPECT_TRUE(accept.accept_unreduced_fractions);
  EXPECT_TRUE(math_equal("\\frac{3}{4}", "\\frac{6}{8}", accept).equal);
  EXPECT_TRUE(math_equal("\\frac{3}{4}", "6/8", accept).equal);
  MathOptions reject;
  reject.accept_unreduced_fractions = false;
  MathVerdict v = math_equal("\\frac{3}{4}", "\\frac{6}{8}", reject);
  EXPECT_FALSE(v.equal);
  EXPECT_NE(v.reason.find("lowest terms"), std::string::npos) << v.reason;
  EXPECT_TRUE(math_equal("\\frac{3}{4}", "\\frac{3}{4}", reject).equal);
  EXPECT_TRUE(math_equal("\\frac{3}{4}", "0.75", reject).equal) << "a decimal is not an unreduced fraction";
}

// Hostile whole texts stay linear: thousands of unclosed openers, boxes and numbers.
TEST(MathGrader, HostileWholeTextsAreFast) {
  std::vector<std::string> texts = {std::string(200000, '$'), std::string(100000, '{'), "",
                                    [] { std::string s; for (int i = 0; i < 50000; ++i) s += "\\( "; return s; }(),
                                    [] { std::string s; for (int i = 0; i < 20000; ++i) s += "\\boxed{"; return s; }(),
                                    [] { std::string s; for (int i = 0; i < 20000; ++i) s += "\\boxed{1} "; return s; }(),
                                    [] { std::string s; for (int i = 0; i < 30000; ++i) s += "answer is "; return s; }(),
                                    [] { std::string s; for (int i = 0; i < 50000; ++i) s += "1, "; return s; }()};
  for (const auto& t : texts) {
    auto start = std::chrono::steady_clock::now();
    MathGrade g = grade_math_answer("1", t, {"boxed", "minerva", "answer_line", "math_span", "last_number"});
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    EXPECT_LT(ms, 1000.0) << t.substr(0, 20);
    EXPECT_FALSE(g.verdict.reason.empty());
  }
}

// Factorials of 10^6 cost a million multiplications per prime on the exact (modular) path; a sum of 150
// of them took 3.9 s to grade before the path had one budget per expression.
TEST(MathGrader, HostileFactorialAnswersAreBounded) {
  std::string many;
  for (int i = 0; i < 150; ++i) many += (i ? "+" : "") + std::string("999999!");
  for (const auto& [gold, pred] : std::vector<std::pair<std::string, std::string>>{{many, many + "+1"}, {"1", many}}) {
    auto start = std::chrono::steady_clock::now();
    MathVerdict v = math_equal(gold, pred);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    EXPECT_LT(ms, 1000.0);
    EXPECT_FALSE(v.equal) << v.reason;
  }
}

// \binom{n}{k} is n!/(k!(n-k)!) with n and k copied, so nested binomials grow 4x per level: twelve levels
// (depth allows that many) summed thirty times took 184 ms to grade. Large arguments are refused instead.
TEST(MathGrader, NestedBinomialsAreRefusedNotExpanded) {
  std::string nest = "2";
  for (int i = 0; i < 12; ++i) nest = "\\binom{" + nest + "}{1}";
  MathVerdict v = math_equal(nest, "2");
  EXPECT_FALSE(v.equal);
  EXPECT_NE(v.reason.find("binom arguments too large"), std::string::npos) << v.reason;
  EXPECT_TRUE(math_equal("\\binom{\\binom{5}{2}}{2}", "45").equal);  // a reasonable nesting still works
}

}  // namespace
}  // namespace hb::suites::math
