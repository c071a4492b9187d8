// GSM8K grading agrees with OpenAI's labels on the 5276 labelled model solutions of
// example_model_solutions.jsonl (4 per test question, each ending in "A: n"). Every disagreement is listed,
// with its reason, in tests/data/suites/gsm8k/label_disagreements.txt; the test fails when the set changes.
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "harness/base/files.h"
#include "harness/base/strings.h"
#include "suites/common/number_normalize.h"
#include "suites/gsm8k/gsm8k_suite.h"

namespace hb::suites {
namespace {

// hybench's verdict on one labelled solution: the flexible GSM8K extraction (the last number, normalised)
// of the solution against that of the ground truth (whose last line is "A: n").
bool verdict(const std::string& solution, const std::string& ground_truth, std::string* pred, std::string* gold) {
  Extraction p = gsm8k_extract_flexible(solution);
  Extraction g = gsm8k_extract_flexible(ground_truth);
  *pred = p.value.value_or("none");
  *gold = g.value.value_or("none");
  return p.value && g.value && numbers_equal(*p.value, *g.value);
}

TEST(Gsm8kAgreement, VerdictsAgreeWithLabelsOnExampleModelSolutions) {
  std::map<std::string, std::string> listed;  // "line:model" -> reason
  {
    std::ifstream in(std::string(HB_TEST_DATA_DIR) + "/suites/gsm8k/label_disagreements.txt");
    std::string line;
    while (std::getline(in, line)) {
      if (trim(line).empty() || line[0] == '#') continue;
      auto sp = line.find(' ');
      listed[line.substr(0, sp)] = sp == std::string::npos ? "" : line.substr(sp + 1);
    }
  }
  int total = 0, agree = 0;
  std::set<std::string> found;
  std::string report;
  for_each_jsonl(std::string(HB_TEST_DATASETS_DIR) + "/gsm8k/example_model_solutions.jsonl",
                 [&](size_t line, const nlohmann::json& j) {
                   const std::string gt = j.at("ground_truth").get<std::string>();
                   for (const char* model : {"6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification"}) {
                     const auto& s = j.at(model);
                     std::string pred, gold;
                     bool ours = verdict(s.at("solution").get<std::string>(), gt, &pred, &gold);
                     bool label = s.at("is_correct").get<bool>();
                     ++total;
                     if (ours == label) {
                       ++agree;
                       continue;
                     }
                     std::string key = std::to_string(line) + ":" + model;
                     found.insert(key);
                     if (!listed.count(key))
                       report += key + " label=" + (label ? "correct" : "wrong") + " hybench=" + (ours ? "correct" : "wrong") +
                                 " pred=" + pred + " gold=" + gold + "\n";
                   }
                 });
  EXPECT_EQ(total, 5276);
  double rate = static_cast<double>(agree) / total;
  EXPECT_GE(rate, 0.995) << agree << "/" << total;
  std::printf("GSM8K label agreement: %d/%d = %.4f\n", agree, total, rate);
  EXPECT_TRUE(report.empty()) << "disagreements missing from label_disagreements.txt:\n" << report;
  for (const auto& [key, reason] : listed)
    EXPECT_TRUE(found.count(key)) << key << " is listed but now agrees; remove it";
}

}  // namespace
}  // namespace hb::suites
