#include "harness/store/merge.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "harness/base/error.h"
#include "harness/store/store.h"

namespace hb::store {
namespace {

class MergeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("hb_merge_" + std::to_string(::getpid()) + "_" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string db(const std::string& name) { return (dir_ / name).string(); }

  // A shard holding items [from, to) of one run; `bad` items are stored as failures.
  void write_shard(const std::string& path, int from, int to, std::set<int> bad = {},
                   nlohmann::json config = {{"study", "s"}}) {
    Store s(path);
    auto run = s.open_run("study", "study", config);
    int64_t model = s.ensure_model({"native:preset:tiny/teacher", "teacher", std::string("AAAA"), 4, 0, 1000, {}});
    int64_t suite = s.ensure_suite({"gsm8k", "chat", "1", "h"});
    for (int i = from; i < to; ++i) {
      SampleRecord r;
      r.run_id = run.id;
      r.model_id = model;
      r.suite_id = suite;
      r.item_id = std::to_string(i);
      r.prompt_json = "{}";
      r.scores = {{"accuracy/strict", 1}};
      if (bad.count(i)) r.error_kind = "timeout";
      AttemptRecord a;
      a.kind = bad.count(i) ? "timeout" : "ok";
      a.start_unix_ns = 1000 * (from + 1) + i;  // shards ran at different times
      r.attempt_log = {a};
      s.add_sample(std::move(r));
    }
    s.write([&](Db& d) {
      d.prepare("INSERT INTO perf_points(run_id, model_id, point_key, shape, load_kind, load_value, workload_json) "
                "VALUES(?,?,?,?,?,?,?)")
          .bind(1, run.id).bind(2, model).bind(3, "1:64/c" + std::to_string(from)).bind(4, "1:64").bind(5, "concurrency")
          .bind(6, 1.0).bind(7, "{}").run();
    });
    s.flush();
  }
  int64_t count(Store& s, const std::string& sql) {
    auto q = s.reader().prepare(sql);
    q.step();
    return q.int64(0);
  }
  std::filesystem::path dir_;
};

TEST_F(MergeTest, ShardsCombineWithoutDuplicatesAndSuccessReplacesFailure) {
  write_shard(db("a.db"), 0, 6, {5});
  write_shard(db("b.db"), 5, 10);
  Store into(db("c.db"));
  auto sa = merge_database(into, db("a.db"));
  auto sb = merge_database(into, db("b.db"));
  EXPECT_EQ(sa.samples, 6);
  EXPECT_EQ(sb.runs, 0);
  EXPECT_EQ(count(into, "SELECT COUNT(*) FROM samples"), 10);
  EXPECT_EQ(count(into, "SELECT COUNT(*) FROM samples WHERE error_kind IS NOT NULL"), 0);
  EXPECT_EQ(count(into, "SELECT COUNT(*) FROM runs"), 1);
  EXPECT_EQ(count(into, "SELECT COUNT(*) FROM models"), 1);
  EXPECT_EQ(count(into, "SELECT COUNT(*) FROM perf_points"), 2);
  ASSERT_EQ(sb.touched.size(), 1u);
  // Merging again adds nothing.
  auto again = merge_database(into, db("b.db"));
  EXPECT_EQ(again.samples, 0);
  EXPECT_EQ(again.perf_points, 0);
  EXPECT_EQ(count(into, "SELECT COUNT(*) FROM samples"), 10);
  // Every attempt of both shards, once (item 5 was tried in both: its failure and its success).
  EXPECT_EQ(count(into, "SELECT COUNT(*) FROM attempts"), 11);
  EXPECT_EQ(count(into, "SELECT COUNT(*) FROM attempts WHERE item_id = '5'"), 2);
}

// Shards of a multi-part study (hybench run --shard): a part that failed in one shard and finished in the other
// is failed in the merged database, and so is the run; a part only one shard ran keeps its status; merging in
// either order gives the same. A failed night never merges into a finished one.
TEST_F(MergeTest, AFailedShardKeepsThePartAndTheRunFailed) {
  const nlohmann::json config = {{"study", "nightly"}};
  auto shard = [&](const std::string& path, const std::string& gsm_status, bool with_math) {
    Store s(path);
    std::vector<RunPart> parts = {{"eval/teacher/gsm8k", "eval", {{"suite", "gsm8k"}}}};
    if (with_math) parts.push_back({"eval/teacher/math500", "eval", {{"suite", "math500"}}});
    auto run = s.open_run_parts("nightly", "study", config, parts);
    s.end_parts(run.id, {parts[0]}, gsm_status);
    if (with_math) s.end_parts(run.id, {parts[1]}, "finished");
    s.flush();
  };
  shard(db("ok.db"), "finished", true);
  shard(db("bad.db"), "failed", false);
  for (const auto& order : {std::vector<std::string>{"ok.db", "bad.db"}, std::vector<std::string>{"bad.db", "ok.db"}}) {
    const std::string target = db("merged_" + order[0]);
    {
      Store into(target);
      for (const auto& f : order) merge_database(into, db(f));
    }
    Store into(target);
    auto status = [&](const std::string& sql) {
      auto q = into.reader().prepare(sql);
      EXPECT_TRUE(q.step()) << sql;
      return q.text(0);
    };
    EXPECT_EQ(status("SELECT status FROM run_parts WHERE part_key = 'eval/teacher/gsm8k'"), "failed") << order[0];
    EXPECT_EQ(status("SELECT status FROM run_parts WHERE part_key = 'eval/teacher/math500'"), "finished") << order[0];
    EXPECT_EQ(status("SELECT status FROM runs WHERE name = 'nightly'"), "failed") << order[0];
    EXPECT_EQ(count(into, "SELECT COUNT(*) FROM runs WHERE ended_at IS NULL"), 0) << order[0];
  }
  // Two finished shards stay finished.
  shard(db("ok2.db"), "finished", false);
  Store both(db("both.db"));
  merge_database(both, db("ok.db"));
  merge_database(both, db("ok2.db"));
  auto q = both.reader().prepare("SELECT status FROM runs");
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.text(0), "finished");
}

TEST_F(MergeTest, ShardsOfDifferentStudiesAreRefused) {
  write_shard(db("a.db"), 0, 2);
  write_shard(db("b.db"), 2, 4, {}, {{"study", "other"}});
  Store into(db("c.db"));
  merge_database(into, db("a.db"));
  try {
    merge_database(into, db("b.db"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("config hash"), std::string::npos) << e.message();
  }
  EXPECT_EQ(count(into, "SELECT COUNT(*) FROM samples"), 2);  // nothing of b was half-merged
}

TEST_F(MergeTest, NonDatabaseInputIsRefusedAndLeftUntouched) {
  { std::ofstream(db("notes.db")) << "not a database at all, just text long enough to fill a header......"; }
  Store into(db("c.db"));
  EXPECT_THROW(merge_database(into, db("notes.db")), Error);
  std::ifstream in(db("notes.db"));
  std::string first;
  std::getline(in, first);
  EXPECT_EQ(first.rfind("not a database", 0), 0u);
}

TEST_F(MergeTest, MissingInputIsAUsageError) {
  Store into(db("c.db"));
  EXPECT_THROW(merge_database(into, db("nope.db")), Error);
}

}  // namespace
}  // namespace hb::store
