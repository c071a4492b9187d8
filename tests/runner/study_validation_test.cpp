// Study validation as users write studies (wrong types included) and the shared error-rate rule.
#include <gtest/gtest.h>

#include <cmath>

#include "harness/base/error.h"
#include "harness/runner/error_rate.h"
#include "harness/runner/study.h"

namespace hb::runner {
namespace {

nlohmann::json minimal() {
  return nlohmann::json::parse(
      R"({"schema_version": 1, "name": "s", "models": [{"name": "m", "spec": "openai:http://h:1/v1"}],
          "suites": [{"suite": "gsm8k"}]})");
}

std::string config_error(const nlohmann::json& j) {
  try {
    parse_study(j, "study.json");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::config) << e.message();
    return e.message();
  }
  ADD_FAILURE() << "accepted: " << j.dump();
  return "";
}

TEST(StudyValidation, WrongTypesNameTheFieldAndAreConfigErrors) {
  auto j = minimal();
  j["schema_version"] = "one";
  EXPECT_NE(config_error(j).find("/schema_version"), std::string::npos);
  j["schema_version"] = 1.5;
  EXPECT_NE(config_error(j).find("/schema_version"), std::string::npos);
  j = minimal();
  j["schema_version"] = 2;
  EXPECT_NE(config_error(j).find("unsupported version 2"), std::string::npos);
  j = minimal();
  j["max_error_rate"] = "x";
  EXPECT_NE(config_error(j).find("/max_error_rate"), std::string::npos);
  j["max_error_rate"] = 1.5;
  EXPECT_NE(config_error(j).find("/max_error_rate"), std::string::npos);
  j = minimal();
  j["concurrency"] = "8";
  EXPECT_NE(config_error(j).find("/concurrency"), std::string::npos);
  j = minimal();
  j["suites"][0]["temperature"] = "hot";
  EXPECT_NE(config_error(j).find("/suites/0/temperature"), std::string::npos);
  j = minimal();
  j["models"] = nlohmann::json::object();
  EXPECT_NE(config_error(j).find("/models"), std::string::npos);
}

TEST(StudyValidation, DefaultsAndTheErrorRateField) {
  auto s = parse_study(minimal(), "study.json");
  EXPECT_DOUBLE_EQ(s.max_error_rate, 0.5);
  auto j = minimal();
  j["max_error_rate"] = 0.02;
  EXPECT_DOUBLE_EQ(parse_study(j, "study.json").max_error_rate, 0.02);
}

TEST(StudyValidation, ASuiteListedTwiceIsRefused) {
  // A run keeps one result (and one part, eval/MODEL/SUITE) per model and suite: two entries of one suite
  // would share its samples whatever their settings.
  auto j = minimal();
  j["suites"].push_back({{"suite", "gsm8k"}, {"temperature", 0.7}});
  EXPECT_NE(config_error(j).find("/suites/1/suite: duplicate suite 'gsm8k'"), std::string::npos);
  j["suites"][1] = {{"suite", "gsm8k:cot8"}};
  EXPECT_NO_THROW(parse_study(j, "study.json"));
}

TEST(ErrorRate, OneRuleForEveryCommand) {
  ErrorTally t{3, 10};
  EXPECT_TRUE(t.exceeds(0.2));
  EXPECT_FALSE(t.exceeds(0.3));
  EXPECT_FALSE((ErrorTally{0, 0}).exceeds(0.0)) << "nothing ran: nothing to judge";
  EXPECT_TRUE((ErrorTally{1, 1000}).exceeds(0.0)) << "--max-error-rate 0 tolerates no failure";
  EXPECT_EQ(t.describe("samples"), "3 of 10 samples failed (30.0%)");
  EXPECT_EQ(final_line("n", "failed", t, "samples", 0.2), "run n failed: 3 of 10 samples failed (30.0%), more than the allowed error rate 0.2");
  EXPECT_EQ(final_line("n", "finished", {0, 5}, "samples", 0.5), "run n finished: 0 of 5 samples failed");
  EXPECT_THROW(check_max_error_rate(std::nan(""), "--max-error-rate"), Error);
  EXPECT_THROW(check_max_error_rate(-0.1, "--max-error-rate"), Error);
  EXPECT_THROW(check_max_error_rate(1.1, "--max-error-rate"), Error);
  EXPECT_NO_THROW(check_max_error_rate(0, "--max-error-rate"));
}

}  // namespace
}  // namespace hb::runner
