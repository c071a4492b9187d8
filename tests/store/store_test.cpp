#include "harness/store/store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "harness/base/error.h"

namespace hb::store {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("hb_store_test_" + std::to_string(::getpid()) + "_" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "test.db").string();
  }
  void TearDown() override {
    std::filesystem::permissions(dir_, std::filesystem::perms::owner_all, std::filesystem::perm_options::add);
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  std::string path_;
};

SampleRecord sample(int64_t run, int64_t model, int64_t suite, const std::string& item, int idx, bool error) {
  SampleRecord s;
  s.run_id = run;
  s.model_id = model;
  s.suite_id = suite;
  s.item_id = item;
  s.sample_index = idx;
  s.prompt_json = "{}";
  s.completion = "#### 4";
  s.scores = {{"accuracy/strict", error ? 0 : 1}};
  if (error) {
    s.error_kind = "http_5xx";
    s.error_message = "500";
  }
  return s;
}

TEST_F(StoreTest, MigratesToCurrentVersionAndUsesWal) {
  { Store store(path_); }
  Db db(path_, Db::Mode::read_only);
  auto v = db.prepare("PRAGMA user_version");
  ASSERT_TRUE(v.step());
  EXPECT_EQ(v.int64(0), Store::schema_version());
  auto j = db.prepare("PRAGMA journal_mode");
  ASSERT_TRUE(j.step());
  EXPECT_EQ(j.text(0), "wal");
}

TEST_F(StoreTest, ResumesARunWithTheSameConfigAndRejectsAnother) {
  Store store(path_);
  auto r1 = store.open_run("nightly", "eval", {{"model", "a"}});
  EXPECT_FALSE(r1.resumed);
  auto r2 = store.open_run("nightly", "eval", {{"model", "a"}});
  EXPECT_TRUE(r2.resumed);
  EXPECT_EQ(r1.id, r2.id);
  try {
    store.open_run("nightly", "eval", {{"model", "b"}});
    FAIL() << "expected a usage error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::usage);
    EXPECT_NE(e.message().find("another configuration"), std::string::npos) << e.message();
  }
}

TEST_F(StoreTest, FailedSamplesAreNotFinishedAndAreReplacedOnRetry) {
  Store store(path_);
  auto run = store.open_run("r", "eval", {{"x", 1}});
  int64_t model = store.ensure_model({"openai:http://x/v1", "x", {}, {}, {}, {}, {}});
  int64_t suite = store.ensure_suite({"gsm8k", "chat", "1", "abc"});
  EXPECT_EQ(store.ensure_suite({"gsm8k", "chat", "1", "abc"}), suite);
  store.add_sample(sample(run.id, model, suite, "0", 0, false));
  store.add_sample(sample(run.id, model, suite, "1", 0, true));
  store.flush();
  auto done = store.finished_samples(run.id, model, suite);
  EXPECT_EQ(done.size(), 1u);
  EXPECT_TRUE(done.count({"0", 0}));
  EXPECT_EQ(store.count_samples(run.id, model, suite, true), 1);
  store.add_sample(sample(run.id, model, suite, "1", 0, false));
  store.flush();
  EXPECT_EQ(store.count_samples(run.id, model, suite, false), 2);
  EXPECT_EQ(store.count_samples(run.id, model, suite, true), 0);
}

TEST_F(StoreTest, NotAnSqliteFileGivesAClearError) {
  { std::ofstream(path_) << "this is not a database, just some text that is long enough to have a header........"; }
  try {
    Store store(path_);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("is not an SQLite database"), std::string::npos) << e.message();
  }
  // The file is untouched.
  std::ifstream in(path_);
  std::string first;
  std::getline(in, first);
  EXPECT_EQ(first.rfind("this is not a database", 0), 0u);
}

TEST_F(StoreTest, ReadOnlyDatabaseGivesAClearErrorAndKeepsData) {
  {
    Store store(path_);
    store.open_run("kept", "eval", {{"x", 1}});
  }
  if (::geteuid() == 0) {
    // root ignores file permissions; use a read-only bind of SQLite itself instead.
    // root ignores file permissions: check the message of a write through a read-only connection.
    Db db(path_, Db::Mode::read_only);
    try {
      db.exec("INSERT INTO runs(name, kind, config_json, config_hash, started_at) VALUES('x','eval','{}','h','t')");
      FAIL() << "expected an error";
    } catch (const Error& e) {
      EXPECT_NE(e.message().find("is read-only"), std::string::npos) << e.message();
    }
  } else {
    ::chmod(path_.c_str(), 0444);
    ::chmod(dir_.c_str(), 0555);
    EXPECT_THROW({ Store store(path_); store.open_run("new", "eval", {{"x", 2}}); }, Error);
    ::chmod(dir_.c_str(), 0755);
    ::chmod(path_.c_str(), 0644);
  }
  Store store(path_);
  auto q = store.reader().prepare("SELECT COUNT(*) FROM runs WHERE name='kept'");
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.int64(0), 1);
}

TEST_F(StoreTest, MissingDirectoryIsAUsageError) {
  try {
    Store store((dir_ / "no" / "such" / "x.db").string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::usage);
    EXPECT_NE(e.message().find("does not exist"), std::string::npos);
  }
}

TEST_F(StoreTest, DatabaseFromANewerHybenchIsRejected) {
  { Store store(path_); }
  {
    Db db(path_, Db::Mode::read_write_create);
    db.exec("PRAGMA user_version=999");
  }
  EXPECT_THROW(Store store(path_), Error);
}

}  // namespace
}  // namespace hb::store
