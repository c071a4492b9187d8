// The attempts table (migration 2) and the redaction of URL credentials in what the store writes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "harness/store/store.h"

namespace hb::store {
namespace {

class StoreAttempts : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("hb_store_attempts_" + std::to_string(::getpid()) + "_" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "t.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(StoreAttempts, EveryAttemptIsAppendedAndAResumedSampleKeepsTheOldOnes) {
  Store st(path_);
  auto run = st.open_run("r", "eval", {{"model", "openai:http://u:pw@h:1/v1"}});
  int64_t model = st.ensure_model({"openai:http://u:pw@h:1/v1", "m", {}, {}, {}, {}, {{"url", "http://u:pw@h:1/v1"}}});
  int64_t suite = st.ensure_suite({"gsm8k", "default", "1", "abc"});
  SampleRecord s;
  s.run_id = run.id;
  s.model_id = model;
  s.suite_id = suite;
  s.item_id = "i1";
  s.prompt_json = "{}";
  s.attempts = 2;
  s.endpoint = "http://u:pw@h:1/v1";
  s.error_kind = "timeout";
  s.error_message = "no bytes from http://u:pw@h:1/v1/chat/completions";
  AttemptRecord a;
  a.kind = "truncated";
  a.http_status = 200;
  a.bytes_received = 512;
  a.endpoint = s.endpoint;
  a.message = s.error_message;
  s.attempt_log = {a, a};
  s.attempt_log[1].attempt = 2;
  s.attempt_log[1].kind = "timeout";
  st.add_sample(s);
  // Resumed: the sample succeeds; its row is replaced, the attempts of both sessions stay.
  s.error_kind.reset();
  s.error_message.clear();
  s.attempts = 1;
  a.kind = "ok";
  s.attempt_log = {a};
  st.add_sample(s);
  st.flush();

  auto& db = st.reader();
  auto q = db.prepare("SELECT COUNT(*), SUM(bytes_received), SUM(kind = 'ok') FROM attempts WHERE item_id = 'i1'");
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.int64(0), 3);
  EXPECT_EQ(q.int64(1), 3 * 512);
  EXPECT_EQ(q.int64(2), 1);
  auto text = db.prepare(
      "SELECT (SELECT group_concat(config_json) FROM runs) || (SELECT group_concat(spec || details_json) FROM models) || "
      "(SELECT group_concat(endpoint || COALESCE(error_message, '')) FROM samples) || "
      "(SELECT group_concat(endpoint || message) FROM attempts)");
  ASSERT_TRUE(text.step());
  std::string all = text.text(0);
  EXPECT_EQ(all.find("pw@"), std::string::npos) << all;
  EXPECT_NE(all.find("u:***@h:1"), std::string::npos) << all;
}

TEST_F(StoreAttempts, APasswordChangeResumesTheSameRun) {
  Store st(path_);
  auto first = st.open_run("r", "eval", {{"model", "openai:http://u:one@h:1/v1"}});
  auto second = st.open_run("r", "eval", {{"model", "openai:http://u:two@h:1/v1"}});
  EXPECT_TRUE(second.resumed);
  EXPECT_EQ(first.id, second.id);
}

}  // namespace
}  // namespace hb::store
