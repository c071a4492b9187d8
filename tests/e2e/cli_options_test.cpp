// The command line as people type it: global options after the subcommand, a did-you-mean for a mistyped
// option of any command (also when the option it resembles is required), `--model http://...` read as
// openai:, and the request count and time estimate an eval prints before it starts.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <thread>

#include "child_process.h"
#include "e2e_fixture.h"
#include "harness/base/files.h"

namespace hb::test {
namespace {

namespace fs = std::filesystem;

class Cli : public E2eTest {
 protected:
  std::string start_server() { return start_loopback({}); }
  int hybench(std::vector<std::string> args) {
    args.insert(args.begin(), std::string(HB_BINARY_DIR) + "/hybench");
    int rc = run_program(args, path("out"), path("err"), 120);
    err_ = read_file(path("err"));
    out_ = read_file(path("out"));
    return rc;
  }
  std::string out_, err_;
};

TEST_F(Cli, MistypedOptionsOfEveryCommandGetADidYouMean) {
  struct Case {
    std::vector<std::string> args;
    const char* says;
  } cases[] = {
      // --model is required: CLI11 alone reported "--model is required" and never mentioned --modle.
      {{"eval", "--modle", "openai:http://127.0.0.1:9/v1", "--suite", "gsm8k"}, "unknown option '--modle'; did you mean '--model'?"},
      {{"eval", "--model", "openai:http://127.0.0.1:9/v1", "--suite", "gsm8k", "--limt", "3"}, "did you mean '--limit'?"},
      {{"sweep", "--model", "openai:http://127.0.0.1:9/v1", "--shape", "10:8", "--concurency", "2"}, "did you mean '--concurrency'?"},
      {{"compare", "--bse", "a", "--head", "b"}, "did you mean '--base'?"},
      {{"report", "--db", "x.db", "--log-levl", "debug"}, "did you mean '--log-level'?"},
      {{"eval", "--model=openai:x", "--suite", "gsm8k", "--sampels=3"}, "unknown option '--sampels'; did you mean '--samples'?"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(hybench(c.args), 2) << err_;
    EXPECT_NE(err_.find(c.says), std::string::npos) << err_;
    EXPECT_EQ(err_.find("is required"), std::string::npos) << err_;
  }
  // Without a mistyped option the usual message stays.
  EXPECT_EQ(hybench({"eval", "--suite", "gsm8k"}), 2);
  EXPECT_NE(err_.find("--model is required"), std::string::npos) << err_;
}

TEST_F(Cli, GlobalOptionsAfterTheSubcommandAndHttpModels) {
  std::string url = start_server();
  std::vector<std::string> eval{"eval", "--model", url, "--model-name", "loop", "--suite", "gsm8k", "--limit", "3",
                                "--samples", "2", "--temperature", "0.5", "--data-dir", HB_TEST_DATASETS_DIR,
                                "--db", path("r.db"), "--run", "a"};
  ASSERT_EQ(hybench(eval), 0) << err_;
  EXPECT_NE(err_.find("note: --model " + url + " taken as openai:" + url), std::string::npos) << err_;
  EXPECT_NE(err_.find("gsm8k: 3 items x 2 samples = 6 requests; time unknown until the first samples complete"),
            std::string::npos)
      << err_;
  // A second run of the same model and suite: the estimate rests on the first one's samples.
  eval.back() = "b";
  ASSERT_EQ(hybench(eval), 0) << err_;
  EXPECT_NE(err_.find("6 requests; about"), std::string::npos) << err_;
  EXPECT_NE(err_.find("over 6 earlier samples of this model"), std::string::npos) << err_;
  // --log-level after the subcommand: the info lines are gone, the results are not.
  eval.back() = "c";
  eval.insert(eval.end(), {"--log-level", "warn"});
  ASSERT_EQ(hybench(eval), 0) << err_;
  EXPECT_EQ(err_.find("requests"), std::string::npos) << err_;
  EXPECT_NE(out_.find("accuracy/strict"), std::string::npos) << out_;
  // Before the subcommand, as always.
  std::vector<std::string> before{"--log-level=warn"};
  eval.resize(eval.size() - 2);
  eval.back() = "d";
  before.insert(before.end(), eval.begin(), eval.end());
  ASSERT_EQ(hybench(before), 0) << err_;
  EXPECT_EQ(err_.find("requests"), std::string::npos) << err_;
  // A bad value is still checked.
  eval.insert(eval.end(), {"--log-level", "loud"});
  EXPECT_EQ(hybench(eval), 2);
  EXPECT_NE(err_.find("loud"), std::string::npos) << err_;
}

// The README's AIME example: --limit 5 means 5 items x 16 samples = 80 requests, said before it starts; the
// whole suite (480 requests) also says how to run fewer.
TEST_F(Cli, EvalSaysWhatItWillRequestBeforeItStarts) {
  std::string url = start_server();
  std::vector<std::string> eval{"eval", "--model", url, "--suite", "aime24", "--data-dir", HB_TEST_DATASETS_DIR,
                                "--db", path("r.db"), "--concurrency", "64", "--run"};
  auto limited = eval;
  limited.insert(limited.end(), {"five", "--limit", "5"});
  ASSERT_EQ(hybench(limited), 0) << err_;
  EXPECT_NE(err_.find("aime24: 5 items x 16 samples = 80 requests"), std::string::npos) << err_;
  EXPECT_EQ(err_.find("add --limit"), std::string::npos) << err_;
  auto all = eval;
  all.push_back("all");
  ASSERT_EQ(hybench(all), 0) << err_;
  EXPECT_NE(err_.find("aime24: 30 items x 16 samples = 480 requests; about"), std::string::npos) << err_;
  EXPECT_NE(err_.find("add --limit N for fewer items"), std::string::npos) << err_;
  // Resumed: what is already stored is said too.
  ASSERT_EQ(hybench(all), 0) << err_;
  EXPECT_NE(err_.find("(480 samples already stored, 0 to request); nothing left to request"), std::string::npos) << err_;
}

}  // namespace
}  // namespace hb::test
