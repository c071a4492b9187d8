// `hybench score` end to end on recorded completions: gold lines, id lines with several samples per item
// (pass@k, maj@K in the summary), malformed and non-UTF-8 lines as per-line errors, the scored JSONL.
// Skips when the hybench binary has not been built in this build tree.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

std::string hybench() { return std::string(HB_BINARY_DIR) + "/hybench"; }

std::string run(const std::string& cmd, int* rc) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  *rc = WEXITSTATUS(pclose(p));
  return out;
}

std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::vector<nlohmann::json> v;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) v.push_back(nlohmann::json::parse(line));
  return v;
}

class ScoreCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(hybench().c_str(), X_OK) != 0) GTEST_SKIP() << "hybench not built at " << hybench();
    dir = std::string(HB_BINARY_DIR) + "/score_cli_test." + std::to_string(getpid());
    mkdir_rc = system(("mkdir -p " + dir).c_str());
  }
  void TearDown() override {
    if (!dir.empty()) mkdir_rc = system(("rm -rf " + dir).c_str());
  }
  std::string dir;
  int mkdir_rc = 0;
};

TEST_F(ScoreCli, MathGoldLinesAndErrors) {
  {
    std::ofstream f(dir + "/in.jsonl", std::ios::binary);
    f << R"({"gold": "\\frac{3}{4}", "completion": "so \\boxed{0.75}"})" << "\n";
    f << R"({"gold": "(3,4]", "completion": "Final Answer: The final answer is $(3,4)$. I hope it is correct."})" << "\n";
    f << R"({"gold": "5", "completion": "<think>\\boxed{5}", "finish_reason": "length"})" << "\n";
    f << "not json\n";
    f << "{\"gold\": \"1\", \"completion\": \"bad \xff\xfe\"}\n";
  }
  int rc = -1;
  std::string out = run(hybench() + " --log-level quiet score --suite math500 --input " + dir + "/in.jsonl --output " + dir +
                            "/out.jsonl 2>&1",
                        &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("accuracy"), std::string::npos) << out;
  EXPECT_NE(out.find("errors 2"), std::string::npos) << out;
  auto lines = read_jsonl(dir + "/out.jsonl");
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0]["correct"], true);
  EXPECT_EQ(lines[0]["extracted"], "0.75");
  EXPECT_EQ(lines[0]["gold"], "\\frac{3}{4}") << "the input fields are repeated";
  EXPECT_EQ(lines[1]["correct"], false);
  EXPECT_NE(lines[1]["reason"].get<std::string>().find("brackets differ"), std::string::npos);
  EXPECT_EQ(lines[2]["correct"], false);
  EXPECT_EQ(lines[2]["truncated"], true);
  EXPECT_TRUE(lines[3].contains("error"));
  EXPECT_TRUE(lines[4].contains("error"));
}

TEST_F(ScoreCli, AimeIdLinesWithSamples) {
  {
    std::ofstream f(dir + "/in.jsonl");
    // AIME24 (Qwen file) item 60 has answer 204; four samples, three right.
    for (const char* c : {"\\boxed{204}", "\\boxed{204}", "\\boxed{17}", "Answer: 204"})
      f << nlohmann::json({{"id", 60}, {"completion", c}}).dump() << "\n";
  }
  int rc = -1;
  std::string out = run(hybench() + " --log-level quiet score --suite aime24 --data-dir " + HB_TEST_DATASETS_DIR +
                            " --input " + dir + "/in.jsonl --output " + dir + "/out.jsonl 2>&1",
                        &rc);
  EXPECT_EQ(rc, 0) << out;
  for (const char* m : {"accuracy", "avg@4", "pass@1", "pass@4", "maj@4"}) EXPECT_NE(out.find(m), std::string::npos) << m << "\n" << out;
  auto lines = read_jsonl(dir + "/out.jsonl");
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[2]["correct"], false);
  EXPECT_EQ(lines[3]["correct"], true);
}

TEST_F(ScoreCli, UnknownSuiteIsAUsageError) {
  int rc = -1;
  std::string out = run(hybench() + " score --suite math5000 --input /dev/null 2>&1", &rc);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("math500"), std::string::npos) << "suggests the close name: " << out;
}

}  // namespace
