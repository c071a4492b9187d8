// The parts of a study run (part_configs.h): one per model x suite and per model's sweep, each with its own
// configuration hash, so an edited suite or workload is refused by its part alone and a study part is the
// same part `hybench eval` makes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "harness/base/error.h"
#include "harness/runner/part_configs.h"
#include "harness/runner/study.h"
#include "harness/store/sqlite.h"
#include "harness/store/store.h"

namespace hb::runner {
namespace {

nlohmann::json study_json() {
  return nlohmann::json::parse(R"({"schema_version": 1, "name": "nightly",
      "models": [{"name": "a", "spec": "openai:http://h:1/v1"}, {"name": "b", "spec": "openai:http://h:2/v1"}],
      "suites": [{"suite": "gsm8k", "limit": 4}, {"suite": "math500", "temperature": 0.6, "seed": 3}],
      "throughput": [{"shape": "10:8", "concurrency": [1, 4]}]})");
}

std::vector<std::string> keys(const std::vector<store::RunPart>& parts) {
  std::vector<std::string> out;
  for (const auto& p : parts) out.push_back(p.key);
  return out;
}

TEST(StudyParts, OnePartPerModelSuiteAndPerModelSweep) {
  auto study = parse_study(study_json(), "s.json");
  EXPECT_EQ(keys(study_parts(study)), (std::vector<std::string>{"eval/a/gsm8k", "eval/a/math500", "eval/b/gsm8k",
                                                                "eval/b/math500", "sweep/a", "sweep/b"}));
  // Shard 1 of 2 runs a slice of every eval but sweeps model b only.
  EXPECT_EQ(keys(study_parts(study, 1, 2)),
            (std::vector<std::string>{"eval/a/gsm8k", "eval/a/math500", "eval/b/gsm8k", "eval/b/math500", "sweep/b"}));
  // An eval part is the part `hybench eval --model SPEC --model-name a --suite math500 --temperature 0.6
  // --seed 3` makes: same key, same configuration (the limit is not in it).
  auto parts = study_parts(study);
  EXPECT_EQ(parts[1].config, nlohmann::json::parse(R"({"command": "eval", "model": "openai:http://h:1/v1",
      "model_name": "a", "suites": ["math500"], "samples": 0, "temperature": 0.6, "seed": 3})"));
  EXPECT_EQ(parts[0].config.dump(),
            R"({"command":"eval","model":"openai:http://h:1/v1","model_name":"a","samples":0,"suites":["gsm8k"]})");
}

TEST(StudyParts, OnlyTheEditedPartsChange) {
  auto before = study_parts(parse_study(study_json(), "s.json"));
  auto j = study_json();
  j["suites"][1]["temperature"] = 0.8;       // math500 of both models
  j["suites"][0]["limit"] = 8;               // not result-affecting: extends the part
  j["throughput"][0]["repeats"] = 3;         // the default written out
  j["description"] = "now with a description";
  j["concurrency"] = 4;
  auto after = study_parts(parse_study(j, "s.json"));
  ASSERT_EQ(keys(after), keys(before));
  for (size_t i = 0; i < after.size(); ++i)
    EXPECT_EQ(after[i].config == before[i].config, after[i].key.find("math500") == std::string::npos) << after[i].key;
  j["throughput"][0]["repeats"] = 5;
  auto sweeps = study_parts(parse_study(j, "s.json"));
  EXPECT_NE(sweeps[4].config, before[4].config);
  EXPECT_NE(sweeps[5].config, before[5].config);
}

class StudyRun : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("hb_study_parts_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "t.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string scalar(const std::string& sql) {
    store::Db db(path_, store::Db::Mode::read_only);
    auto q = db.prepare(sql);
    return q.step() ? q.text(0) : "";
  }
  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(StudyRun, AnEditedSuiteIsRefusedByItsPartWhileANewModelJoins) {
  store::Store s(path_);
  auto study = parse_study(study_json(), "s.json");
  auto parts = study_parts(study);
  auto run = s.open_run_parts("nightly-1", "study", study.raw, parts);
  s.end_parts(run.id, parts, "finished");
  auto j = study_json();
  j["suites"][1]["temperature"] = 0.8;
  auto edited = parse_study(j, "s.json");
  try {
    s.open_run_parts("nightly-1", "study", edited.raw, study_parts(edited));
    FAIL() << "an edited suite must be refused";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::usage);
    EXPECT_NE(e.message().find("part 'eval/a/math500' with another configuration"), std::string::npos) << e.message();
  }
  s.flush();
  EXPECT_EQ(scalar("SELECT COUNT(*) || ' ' || MIN(status) || ' ' || MAX(status) FROM run_parts"), "6 finished finished");
  EXPECT_EQ(scalar("SELECT status FROM runs"), "finished");
  // A new model and a larger limit: the run resumes, the new model's parts join, and until they end the
  // run is running.
  j = study_json();
  j["suites"][0]["limit"] = 8;
  j["models"].push_back({{"name", "c"}, {"spec", "openai:http://h:3/v1"}});
  auto grown = parse_study(j, "s.json");
  auto r2 = s.open_run_parts("nightly-1", "study", grown.raw, study_parts(grown));
  EXPECT_TRUE(r2.resumed);
  EXPECT_EQ(r2.kind, "study");
  s.flush();
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM run_parts"), "9");
  EXPECT_EQ(scalar("SELECT status FROM runs"), "running");
}

}  // namespace
}  // namespace hb::runner
