// The report, gate, compare and history commands through the hybench binary: exit codes and files.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "harness/base/files.h"
#include "tests/reports/fixture_db.h"
#include "tests/reports/golden.h"

namespace hb::reports {
namespace {

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    bin_ = std::string(HB_BINARY_DIR) + "/hybench";
    if (!std::filesystem::exists(bin_)) GTEST_SKIP() << "hybench is not built in " << HB_BINARY_DIR;
    dir_ = testing::temp_dir("cli");
    testing::build_study_fixture(dir_ + "/study.db");
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  int run(const std::string& args) {
    std::string cmd = bin_ + " " + args + " >" + dir_ + "/stdout 2>" + dir_ + "/stderr";
    int rc = std::system(cmd.c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }
  std::string out() { return read_file(dir_ + "/stdout"); }
  std::string err() { return read_file(dir_ + "/stderr"); }
  std::string bin_, dir_;
};

TEST_F(Cli, ReportWritesEveryFile) {
  ASSERT_EQ(run("report --db " + dir_ + "/study.db --out " + dir_ + "/out"), 0) << err();
  for (const char* f : {"summary.md", "summary.json", "pareto.svg", "index.html"})
    EXPECT_TRUE(std::filesystem::exists(dir_ + "/out/" + f)) << f;
  EXPECT_EQ(read_file(dir_ + "/out/summary.json"), read_file(testing::golden_path("summary.json")));
}

TEST_F(Cli, ReportErrorsAreOneLineAndExit2) {
  EXPECT_EQ(run("report --db " + dir_ + "/missing.db --out " + dir_ + "/out"), 2);
  EXPECT_NE(err().find("does not exist"), std::string::npos) << err();
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/missing.db"));
  EXPECT_EQ(run("report --db " + dir_ + "/study.db --runs stuyd --out " + dir_ + "/out"), 2);
  EXPECT_NE(err().find("did you mean 'study'"), std::string::npos) << err();
  std::ofstream(dir_ + "/file") << "x";
  EXPECT_EQ(run("report --db " + dir_ + "/study.db --out " + dir_ + "/file"), 2);
  EXPECT_NE(err().find("is a file"), std::string::npos) << err();
}

TEST_F(Cli, GateExitCodes) {
  std::ofstream(dir_ + "/ok.json") << R"({"suites": {"gsm8k": 0.04, "aime": 0.10}, "min_items": {"aime": 30},
      "throughput": {"shape": "1024:256", "load": 32, "min_ratio": 1.2}})";
  ASSERT_EQ(run("gate --db " + dir_ + "/study.db --baseline teacher --policy " + dir_ + "/ok.json --json"), 0) << err();
  auto j = nlohmann::json::parse(out());
  EXPECT_EQ(j["chosen"], "H-30");
  std::ofstream(dir_ + "/strict.json")
      << R"({"default_margin": 0.0, "throughput": {"shape": "1024:256", "min_ratio": 9}})";
  EXPECT_EQ(run("gate --db " + dir_ + "/study.db --baseline teacher --policy " + dir_ + "/strict.json"), 1) << err();
  EXPECT_NE(out().find("chosen: none"), std::string::npos) << out();
  // aime's 30 problems are under the default minimum of 100 items: no decision, its own exit code.
  std::ofstream(dir_ + "/default.json") << R"({"throughput": {"shape": "1024:256", "min_ratio": 1.2}})";
  EXPECT_EQ(run("gate --db " + dir_ + "/study.db --baseline teacher --policy " + dir_ + "/default.json"), 4) << err();
  EXPECT_NE(out().find("decision: no decision: too little data"), std::string::npos) << out();
  EXPECT_NE(out().find("aime: n=30 paired items < min_items 100"), std::string::npos) << out();
  EXPECT_EQ(run("gate --db " + dir_ + "/study.db --baseline teacher --json --policy " + dir_ + "/default.json"), 4);
  EXPECT_EQ(nlohmann::json::parse(out())["decision"], "no_decision");
}

TEST_F(Cli, CompareAndHistory) {
  // Comparing a run with itself is refused; the fixture has one run.
  EXPECT_EQ(run("compare --db " + dir_ + "/study.db --base study --head study"), 2);
  ASSERT_EQ(run("history --db " + dir_ + "/study.db --model H-30 --metric accuracy --svg " + dir_ + "/h.svg"), 0)
      << err();
  EXPECT_NE(out().find("| study | aime |"), std::string::npos) << out();
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/h.svg"));
  // No silent overwrite: the same SVG path again is refused, --force overwrites.
  std::ofstream(dir_ + "/h.svg") << "keep me";
  EXPECT_EQ(run("history --db " + dir_ + "/study.db --model H-30 --metric accuracy --svg " + dir_ + "/h.svg"), 2);
  EXPECT_NE(err().find("exists; pass --force"), std::string::npos) << err();
  EXPECT_EQ(read_file(dir_ + "/h.svg"), "keep me");
  EXPECT_EQ(run("history --db " + dir_ + "/study.db --model H-30 --metric accuracy --force --svg " + dir_ + "/h.svg"),
            0);
  EXPECT_EQ(read_file(dir_ + "/h.svg").rfind("<svg", 0), 0u);
  // Without --svg the file is named after the model and metric (in the working directory).
  std::string cmd = "cd " + dir_ + " && " + bin_ + " history --db study.db --model H-30 --metric output_tok_per_s >" +
                    dir_ + "/stdout 2>" + dir_ + "/stderr";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << err();
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/history-H-30-output_tok_per_s.svg")) << out();
  // A wrong metric: a short did-you-mean, not every stored name.
  EXPECT_EQ(run("history --db " + dir_ + "/study.db --model H-30 --metric ttft_ms.p5"), 2);
  EXPECT_NE(err().find("did you mean 'ttft_ms.p50'"), std::string::npos) << err();
  EXPECT_LT(err().size(), 300u) << err();
}

}  // namespace
}  // namespace hb::reports
