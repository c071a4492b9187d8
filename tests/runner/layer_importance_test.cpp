// The layer-importance sweep (harness/runner/layer_importance.h, issue 16) on a tiny checkpoint with a planted
// layer: under both metrics the planted layer ranks first, a layer whose mixer weights are zero costs exactly 0,
// the full model inside the sweep reproduces the plain engine's outputs exactly, and a second run resumes
// without redoing anything.
#include <gtest/gtest.h>

#include <filesystem>
#include <future>

#include "harness/backends/backend_factory.h"
#include "harness/base/error.h"
#include "harness/runner/layer_importance.h"
#include "harness/store/store.h"
#include "reports/importance_data.h"
#include "reports/results_db.h"
#include "tests/models/planted_checkpoint.h"

namespace hb::runner {
namespace {

// Scores how much of the item's "expected" text (the full model's own greedy completion) a completion
// reproduces: the length of the common prefix over the expected length.
class SelfMatchSuite : public suites::Suite {
 public:
  SelfMatchSuite() {
    info_.name = "selfmatch";
    info_.variant = "";
    info_.version = "1";
    info_.metrics = {"accuracy"};
    info_.default_sampling.temperature = 0;
    info_.default_sampling.max_tokens = 6;
  }
  const suites::SuiteInfo& info() const override { return info_; }
  std::vector<suites::Item> load(const datasets::Catalog&) const override { return {}; }
  suites::PromptPlan prompt(const suites::Item& item) const override {
    suites::PromptPlan p;
    p.raw_prompt = item.fields["prompt"].get<std::string>();
    return p;
  }
  suites::Grade grade(const suites::Item& item, const suites::Completion& c, suites::ScoringContext&) const override {
    const std::string want = item.fields["expected"].get<std::string>(), got = c.turns.back();
    size_t k = 0;
    while (k < want.size() && k < got.size() && want[k] == got[k]) ++k;
    suites::Grade g;
    g.scores["accuracy"] = want.empty() ? (got.empty() ? 1.0 : 0.0) : double(k) / double(want.size());
    return g;
  }

 protected:
  nlohmann::json prompt_fingerprint() const override { return {{"selfmatch", 1}}; }

 private:
  suites::SuiteInfo info_;
};

std::string greedy(Backend& b, const std::string& prompt) {
  GenerationRequest r;
  r.prompt = prompt;
  r.sampling.max_tokens = 6;
  std::promise<GenerationResult> done;
  b.submit(r, [&](GenerationResult g) { done.set_value(std::move(g)); });
  auto g = done.get_future().get();
  EXPECT_FALSE(g.error) << g.error->message;
  return g.content;
}

class LayerImportanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Layer 0 (attention) dominates; layer 1 (m2) has a zero mixer; layers 2 and 3 are weak.
    ckpt_ = models::testing::scaled_hybrid_checkpoint("sweep", {{0, 8.f}, {1, 0.f}, {2, 0.25f}, {3, 0.25f}});
    db_ = (std::filesystem::temp_directory_path() / ("hb_importance_" + std::to_string(::getpid()) + ".db")).string();
    for (const auto& s : {"", "-wal", "-shm"}) std::filesystem::remove(db_ + s);
    // The suite's references are the full model's own greedy completions, produced by the plain engine.
    auto backend = make_backend("native:" + ckpt_ + ",device=cpu", BackendOptions{});
    std::vector<suites::Item> items;
    for (int i = 0; i < 12; ++i) {
      const std::string prompt = "item " + std::to_string(i) + (i % 2 ? " hello" : " world");
      items.push_back({std::to_string(i), {{"prompt", prompt}, {"expected", greedy(*backend, prompt)}}});
    }
    opts_.model = "native:" + ckpt_ + ",device=cpu";
    opts_.model_name = "planted";
    opts_.layers = "all";
    opts_.db = db_;
    opts_.convert = 1;
    opts_.suite_objects = {std::make_shared<SelfMatchSuite>()};
    opts_.suite_items = {items};
  }

  reports::ImportanceSweep sweep(const std::string& run, const std::string& metric) {
    reports::ResultsDb rdb(db_);
    for (auto& s : reports::load_importance(rdb, rdb.select_runs({run})))
      if (s.metric == metric) return s;
    ADD_FAILURE() << "no sweep " << run << " " << metric;
    return {};
  }

  std::string ckpt_, db_;
  ImportanceOptions opts_;
};

TEST_F(LayerImportanceTest, ScoreAndKlRankThePlantedLayerFirst) {
  opts_.run = "score";
  opts_.metric = "score";
  ASSERT_EQ(run_layer_importance(opts_), 0);
  auto s = sweep("score", "score");
  ASSERT_EQ(s.layers.size(), 4u);
  EXPECT_EQ(reports::rank_layers(s).front(), 0);
  EXPECT_GT(*s.layers[0].ci_low, 0.0) << "the planted layer's drop is significant";
  EXPECT_EQ(*s.layers[1].value, 0.0) << "a zero mixer costs nothing";
  EXPECT_EQ(*s.layers[1].ci_low, 0.0);
  EXPECT_EQ(*s.layers[1].ci_high, 0.0);
  // Next conversion: attention layers only (0 and 3), least important first.
  EXPECT_EQ(reports::next_conversions(s, "AMMA", 1), (std::vector<int>{3}));

  // The full model inside the sweep reproduces the plain engine's completions exactly: accuracy 1 on every item.
  {
    store::Store st(db_);
    auto q = st.reader().prepare(
        "SELECT COUNT(*), SUM(x.scores_json = '{\"accuracy\":1.0}' OR x.scores_json = '{\"accuracy\":1}') FROM samples x "
        "JOIN models m ON m.id = x.model_id JOIN runs r ON r.id = x.run_id WHERE r.name = 'score' AND m.display_name = 'planted'");
    ASSERT_TRUE(q.step());
    EXPECT_EQ(q.int64(0), 12);
    EXPECT_EQ(q.int64(1), 12);
  }

  // KL over the prompts plus the full model's completions stored by the score run.
  opts_.run = "kl";
  opts_.metric = "kl";
  opts_.from_run = "score";
  ASSERT_EQ(run_layer_importance(opts_), 0);
  auto k = sweep("kl", "kl");
  ASSERT_EQ(k.layers.size(), 4u);
  EXPECT_EQ(reports::rank_layers(k).front(), 0);
  EXPECT_EQ(*k.layers[1].value, 0.0) << "KL of a layer whose mixer weights are zero";
  EXPECT_EQ(k.layers[1].n, 12);
  EXPECT_GT(*k.layers[3].value, 0.0);
}

TEST_F(LayerImportanceTest, ResumeRedoesNothingAndKeepsTheRows) {
  opts_.run = "resume";
  opts_.metric = "score";
  opts_.layers = "0,3";
  ASSERT_EQ(run_layer_importance(opts_), 0);
  auto first = sweep("resume", "score");
  int64_t samples = 0;
  {
    store::Store st(db_);
    auto q = st.reader().prepare("SELECT COUNT(*), MAX(end_unix_ns) FROM samples");
    ASSERT_TRUE(q.step());
    samples = q.int64(0);
    EXPECT_EQ(samples, 3 * 12);
  }
  // Same command: every sample is already stored (the end times do not move), the rows are identical.
  ASSERT_EQ(run_layer_importance(opts_), 0);
  auto again = sweep("resume", "score");
  ASSERT_EQ(again.layers.size(), first.layers.size());
  for (size_t i = 0; i < first.layers.size(); ++i) EXPECT_EQ(*again.layers[i].value, *first.layers[i].value);
  store::Store st(db_);
  auto q = st.reader().prepare("SELECT COUNT(*) FROM samples");
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.int64(0), samples);
}

TEST_F(LayerImportanceTest, BadInputIsAUsageError) {
  auto code = [&](ImportanceOptions o) {
    try {
      run_layer_importance(o);
    } catch (const Error& e) {
      return std::make_pair(e.code(), e.message());
    }
    return std::make_pair(ErrorCode::internal, std::string("no error"));
  };
  opts_.run = "bad";
  auto o = opts_;
  o.layers = "7";
  auto [c1, m1] = code(o);
  EXPECT_EQ(c1, ErrorCode::usage);
  EXPECT_NE(m1.find("layer 7 does not exist"), std::string::npos) << m1;
  o = opts_;
  o.layers = "1,1";
  EXPECT_NE(code(o).second.find("listed twice"), std::string::npos);
  o = opts_;
  o.layers = "atention";
  EXPECT_NE(code(o).second.find("did you mean 'attention'"), std::string::npos);
  o = opts_;
  o.model = "native:" + ckpt_ + ",drop_mixer=0,1,2";
  o.layers = "3";
  EXPECT_NE(code(o).second.find("keep at least one layer"), std::string::npos) << "the variant would drop every layer";
  o = opts_;
  o.model = "openai:http://127.0.0.1:1/v1";
  o.metric = "kl";
  EXPECT_NE(code(o).second.find("kl needs the native engine or an endpoint with top logprobs"), std::string::npos);
  o = opts_;
  o.suite_items = {{}};
  EXPECT_NE(code(o).second.find("has no items"), std::string::npos);
  o = opts_;
  o.metric = "kl";
  o.suite_objects.clear();
  o.suite_items.clear();
  o.text = "/nonexistent/text.txt";
  EXPECT_NE(code(o).second.find("does not exist"), std::string::npos);
}

}  // namespace
}  // namespace hb::runner
