// The native math grader: gold solutions of MATH500 grade as correct, and the data-driven case files of
// tricky equivalent and non-equivalent pairs (tests/data/suites/math/*.cases) hold.
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
