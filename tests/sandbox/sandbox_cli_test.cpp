// `hybench score --suite mbpp` with the sandbox: it refuses to run model-written code when no isolation can
// be built (exit 2, a message naming what is missing and the --unsafe-no-sandbox way out), runs with that
// flag, and through the real sandbox a hostile completion reaches neither /etc/shadow nor the --input file.
// Skips when the hybench binary has not been built in this build tree.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

std::string hybench() { return std::string(HB_BINARY_DIR) + "/hybench"; }

// Runs a shell command; returns stdout and stderr together.
std::string run(const std::string& cmd, int* rc) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  *rc = WEXITSTATUS(pclose(p));
  return out;
}

class SandboxCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(hybench().c_str(), X_OK) != 0) GTEST_SKIP() << "hybench not built at " << hybench();
    dir = std::string(HB_BINARY_DIR) + "/sandbox_cli_test." + std::to_string(getpid());
    std::filesystem::create_directories(dir);
    input = dir + "/in.jsonl";
  }
  void TearDown() override {
    std::error_code ec;
    if (!dir.empty()) std::filesystem::remove_all(dir, ec);
  }
  void write_input(const std::vector<std::string>& completions) {
    std::ofstream f(input);
    for (const auto& c : completions) f << nlohmann::json{{"id", "11"}, {"completion", c}}.dump() << "\n";
  }
  std::string score(const std::string& extra, int* rc) {
    return run(hybench() + " --log-level warn score --suite mbpp --data-dir " + HB_TEST_DATASETS_DIR + " --input " + input +
                   " --output " + dir + "/out.jsonl " + extra,
               rc);
  }
  std::vector<nlohmann::json> output() {
    std::vector<nlohmann::json> v;
    std::ifstream in(dir + "/out.jsonl");
    std::string line;
    while (std::getline(in, line)) v.push_back(nlohmann::json::parse(line));
    return v;
  }
  std::string dir, input;
};

const char* kReference =
    "```python\ndef remove_Occ(s,ch):\n    for i in range(len(s)):\n        if (s[i] == ch):\n"
    "            s = s[0 : i] + s[i + 1:]\n            break\n    for i in range(len(s) - 1,-1,-1):\n"
    "        if (s[i] == ch):\n            s = s[0 : i] + s[i + 1:]\n            break\n    return s\n```";

TEST_F(SandboxCli, RefusesWithoutIsolationAndNamesWhatIsMissing) {
  write_input({kReference});
  int rc = -1;
  std::string out = score("--sandbox-bwrap /nonexistent/bwrap", &rc);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("bubblewrap (bwrap) is not installed"), std::string::npos) << out;
  EXPECT_NE(out.find("--unsafe-no-sandbox"), std::string::npos) << out;
  EXPECT_TRUE(output().empty()) << "nothing is graded without a sandbox";
}

TEST_F(SandboxCli, EvalAndRunRefuseBeforeGenerating) {
  // The model is a port nothing listens on: a refusal must come before any request is made.
  int rc = -1;
  std::string out = run(hybench() + " eval --model openai:http://127.0.0.1:9/v1 --model-name m --suite gsm8k,mbpp --limit 1 --db " +
                            dir + "/eval.db --data-dir " + HB_TEST_DATASETS_DIR + " --sandbox-bwrap /nonexistent/bwrap",
                        &rc);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("--unsafe-no-sandbox"), std::string::npos) << out;
  {
    std::ofstream f(dir + "/study.json");
    f << R"({"schema_version": 1, "name": "s", "models": [{"name": "m", "spec": "openai:http://127.0.0.1:9/v1"}],
             "suites": [{"suite": "gsm8k", "limit": 1}, {"suite": "mbpp", "limit": 1}]})";
  }
  out = run(hybench() + " run " + dir + "/study.json --db " + dir + "/run.db --no-report --data-dir " + HB_TEST_DATASETS_DIR +
                " --sandbox-bwrap /nonexistent/bwrap",
            &rc);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("bubblewrap (bwrap) is not installed"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(dir + "/run.db")) << "the study refused before opening its database";
}

TEST_F(SandboxCli, UnsafeFlagRunsAnywayAndWarns) {
  write_input({kReference});
  int rc = -1;
  std::string out = score("--sandbox-bwrap /nonexistent/bwrap --unsafe-no-sandbox", &rc);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("WITHOUT isolation"), std::string::npos) << out;
  auto lines = output();
  ASSERT_EQ(lines.size(), 1u) << out;
  EXPECT_EQ(lines[0].value("correct", false), true) << lines[0].dump();
}

TEST_F(SandboxCli, HostileCompletionsReachNothing) {
  std::string shadow;
  {
    std::ifstream f("/etc/shadow");
    std::getline(f, shadow);  // the first line (root's), when readable
  }
  write_input({
      kReference,
      "```python\nimport os, sys\nos.symlink('/etc/shadow', '.stderr')\nprint(open('/etc/shadow').read(), file=sys.stderr)\n```",
      "```python\nimport sys\nprint(open('" + input + "').read(), file=sys.stderr)\nsys.exit(1)\n```",
      "```python\nimport socket\nsocket.socket(socket.AF_UNIX).connect('/run/anything')\n```",
  });
  int rc = -1;
  std::string out = score("--sandbox-tmpfs-mb 8 --sandbox-wall-s 5", &rc);
  EXPECT_EQ(rc, 0) << out;
  auto lines = output();
  ASSERT_EQ(lines.size(), 4u) << out;
  EXPECT_EQ(lines[0].value("correct", false), true) << lines[0].dump();
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string reason = lines[i].value("reason", "");
    EXPECT_EQ(lines[i].value("correct", true), false) << reason;
    if (shadow.size() > 8) EXPECT_EQ(reason.find(shadow), std::string::npos) << "/etc/shadow leaked into the reason";
  }
  EXPECT_NE(lines[1].value("reason", "").find("FileNotFoundError"), std::string::npos) << lines[1].dump();
  EXPECT_NE(lines[2].value("reason", "").find("FileNotFoundError"), std::string::npos) << "the --input file is not in the box: " << lines[2].dump();
  EXPECT_NE(lines[3].value("reason", "").find("PermissionError"), std::string::npos) << lines[3].dump();
}

}  // namespace
