// Multi-part runs: evals and sweeps of several models in one run, each part with its own config hash.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "harness/base/error.h"
#include "harness/store/store.h"

namespace hb::store {
namespace {

class RunParts : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("hb_run_parts_" + std::to_string(::getpid()) + "_" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "t.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string scalar(const std::string& sql) {
    Db db(path_, Db::Mode::read_only);
    auto q = db.prepare(sql);
    return q.step() ? q.text(0) : "";
  }
  std::filesystem::path dir_;
  std::string path_;
};

RunPart eval_part(const std::string& model, const std::string& suite, double temperature) {
  return {"eval/" + model + "/" + suite, "eval", {{"model", model}, {"suite", suite}, {"t", temperature}}};
}

TEST_F(RunParts, EvalsAndSweepsOfSeveralModelsShareARunAndResumeOnTheirOwn) {
  Store s(path_);
  auto a = s.open_run_parts("nightly-2026-12-03", "eval", {{"w", 1}}, {eval_part("a", "gsm8k", 0)});
  EXPECT_FALSE(a.resumed);
  auto b = s.open_run_parts("nightly-2026-12-03", "eval", {{"w", 2}}, {eval_part("b", "gsm8k", 0)});
  EXPECT_TRUE(b.resumed);
  EXPECT_EQ(a.id, b.id);
  RunPart sweep{"sweep/a", "sweep", {{"shape", "10:16"}}};
  auto c = s.open_run_parts("nightly-2026-12-03", "sweep", {{"shape", "10:16"}}, {sweep});
  EXPECT_EQ(c.id, a.id);
  EXPECT_EQ(c.kind, "mixed");
  // The same part with the same config resumes; with another config it is refused and nothing changes.
  EXPECT_NO_THROW(s.open_run_parts("nightly-2026-12-03", "eval", {{"w", 1}}, {eval_part("a", "gsm8k", 0)}));
  try {
    s.open_run_parts("nightly-2026-12-03", "eval", {{"w", 3}}, {eval_part("c", "gsm8k", 0), eval_part("a", "gsm8k", 0.7)});
    FAIL() << "a changed part must be refused";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::usage);
    EXPECT_NE(std::string(e.what()).find("part 'eval/a/gsm8k' with another configuration"), std::string::npos) << e.what();
  }
  s.flush();
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM run_parts"), "3");  // eval/c was not added: the refusal is all or nothing
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM runs"), "1");
  EXPECT_EQ(scalar("SELECT kind FROM runs"), "mixed");
}

TEST_F(RunParts, RunStatusSummarisesItsParts) {
  Store s(path_);
  auto p1 = eval_part("a", "gsm8k", 0);
  RunPart p2{"sweep/a", "sweep", {{"x", 1}}};
  auto r = s.open_run_parts("n", "eval", {{"w", 1}}, {p1});
  s.end_parts(r.id, {p1}, "finished");
  EXPECT_EQ(scalar("SELECT status FROM runs"), "finished");
  s.open_run_parts("n", "sweep", {{"x", 1}}, {p2});
  EXPECT_EQ(scalar("SELECT status FROM runs"), "running");
  s.end_parts(r.id, {p2}, "failed");
  EXPECT_EQ(scalar("SELECT status FROM runs"), "failed");
  s.open_run_parts("n", "sweep", {{"x", 1}}, {p2});  // the failed sweep resumed and finished
  s.end_parts(r.id, {p2}, "finished");
  EXPECT_EQ(scalar("SELECT status FROM runs"), "finished");
  EXPECT_FALSE(scalar("SELECT ended_at FROM runs").empty());
}

TEST_F(RunParts, AWholeRunMadeWithoutPartsOnlyResumesAsItWas) {
  Store s(path_);
  s.open_run("study-run", "study", {{"name", "s"}});
  EXPECT_THROW(s.open_run_parts("study-run", "eval", {{"w", 1}}, {eval_part("a", "gsm8k", 0)}), Error);
  // Same kind and whole config (an eval run made by an older hybench): resumed, and gets its part row.
  s.open_run("old-eval", "eval", {{"w", 1}});
  auto r = s.open_run_parts("old-eval", "eval", {{"w", 1}}, {eval_part("a", "gsm8k", 0)});
  EXPECT_TRUE(r.resumed);
  s.flush();
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM run_parts"), "1");
}

TEST_F(RunParts, AStudyRunKeepsItsKindWhenACommandAddsAPart) {
  Store s(path_);
  s.open_run_parts("night", "study", {{"name", "nightly"}}, {eval_part("a", "gsm8k", 0)});
  auto r = s.open_run_parts("night", "eval", {{"w", 1}}, {eval_part("b", "gsm8k", 0)});
  EXPECT_EQ(r.kind, "study") << "the run stays in its study's family for compare --base previous";
  s.flush();
  EXPECT_EQ(scalar("SELECT kind FROM runs"), "study");
}

TEST_F(RunParts, ConnectTimeColumnExistsInRequestTraces) {
  { Store s(path_); }
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM pragma_table_info('request_traces') WHERE name='connect_ns'"), "1");
}

}  // namespace
}  // namespace hb::store
