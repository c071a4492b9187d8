#include "harness/runner/eval_runner.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include "harness/base/clock.h"
#include "harness/base/error.h"
#include "suites/suite.h"

namespace hb::runner {
namespace {

// A test double of a backend: answers on its own thread with whatever `answer` returns.
class ScriptedBackend : public Backend {
 public:
  using Answer = std::function<GenerationResult(const GenerationRequest&)>;
  explicit ScriptedBackend(Answer answer) : answer_(std::move(answer)) {}
  ~ScriptedBackend() override {
    for (auto& t : threads_) t.join();
  }
  BackendInfo describe() const override { return {"scripted", "scripted:", "scripted", {}}; }
  void submit(GenerationRequest request, ResultCallback done) override {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(request);
    threads_.emplace_back([this, request, done] {
      GenerationResult r = answer_(request);
      r.submit_ns = monotonic_ns();
      r.end_ns = monotonic_ns();
      r.attempts = 1;
      done(std::move(r));
    });
  }
  void cancel_all() override {}
  std::vector<GenerationRequest> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  Answer answer_;
  std::mutex mu_;
  std::vector<GenerationRequest> requests_;
  std::vector<std::thread> threads_;
};

// A two-turn suite: the answer is correct when the last turn's text equals the item's "gold".
class EchoSuite : public suites::Suite {
 public:
  EchoSuite(int turns) : turns_(turns) {
    info_.name = "echo";
    info_.variant = "t";
    info_.version = "1";
    info_.metrics = {"accuracy"};
  }
  const suites::SuiteInfo& info() const override { return info_; }
  std::vector<suites::Item> load(const datasets::Catalog&) const override { return {}; }
  suites::PromptPlan prompt(const suites::Item& item) const override {
    suites::PromptPlan p;
    p.prefix = {{"system", "sys"}};
    for (int t = 0; t < turns_; ++t) p.user_turns.push_back(item.id + " turn " + std::to_string(t));
    return p;
  }
  suites::Grade grade(const suites::Item& item, const suites::Completion& c, suites::ScoringContext&) const override {
    suites::Grade g;
    g.scores["accuracy"] = c.turns.back() == item.fields["gold"].get<std::string>() ? 1.0 : 0.0;
    return g;
  }

 protected:
  nlohmann::json prompt_fingerprint() const override { return {{"turns", turns_}}; }

 private:
  int turns_;
  suites::SuiteInfo info_;
};

class EvalRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("hb_runner_" + std::to_string(::getpid()) + "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db"))
                .string();
    std::filesystem::remove(path_);
    store_ = std::make_unique<store::Store>(path_);
    auto run = store_->open_run("r", "eval", {{"t", 1}});
    target_.run_id = run.id;
    target_.model_id = store_->ensure_model({"scripted:", "m", {}, {}, {}, {}, {}});
    target_.suite_id = store_->ensure_suite({"echo", "t", "1", "h"});
    for (int i = 0; i < 10; ++i) items_.push_back({std::to_string(i), {{"gold", "ok"}}});
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove(path_);
    std::filesystem::remove(path_ + "-wal");
    std::filesystem::remove(path_ + "-shm");
  }
  std::string path_;
  std::unique_ptr<store::Store> store_;
  EvalTarget target_;
  std::vector<suites::Item> items_;
};

GenerationResult text(const std::string& s) {
  GenerationResult r;
  r.content = s;
  r.finish_reason = "stop";
  return r;
}

TEST_F(EvalRunnerTest, StoresEverySampleAndAggregates) {
  EchoSuite suite(1);
  ScriptedBackend backend([](const GenerationRequest& r) {
    // Items 0-4 right, 5-9 wrong.
    return text(r.messages.back().content[0] < '5' ? "ok" : "no");
  });
  suites::ScoringContext ctx;
  EvalOptions o;
  o.samples = 2;
  o.concurrency = 4;
  auto out = run_eval(backend, suite, items_, *store_, target_, o, ctx);
  EXPECT_EQ(out.total, 20u);
  EXPECT_EQ(out.requested, 20u);
  EXPECT_EQ(out.succeeded, 20u);
  ASSERT_EQ(out.metrics.size(), 1u);
  EXPECT_EQ(out.metrics[0].n, 10u);
  EXPECT_DOUBLE_EQ(out.metrics[0].value, 0.5);
  EXPECT_NEAR(out.metrics[0].stderr_, std::sqrt(0.25 * 10 / 9 / 10), 1e-12);
  EXPECT_EQ(store_->count_samples(target_.run_id, target_.model_id, target_.suite_id, false), 20);
}

TEST_F(EvalRunnerTest, ResumeRequestsOnlyWhatIsMissingAndRetriesFailures) {
  EchoSuite suite(1);
  suites::ScoringContext ctx;
  EvalOptions o;
  o.concurrency = 3;
  o.max_error_rate = 1.0;
  {
    ScriptedBackend flaky([](const GenerationRequest& r) {
      GenerationResult res = text("ok");
      if (r.messages.back().content[0] == '7') res.error = ErrorInfo{"http_5xx", "HTTP 500"};
      return res;
    });
    auto out = run_eval(flaky, suite, items_, *store_, target_, o, ctx);
    EXPECT_EQ(out.failed, 1u);
    EXPECT_EQ(out.stored_errors, 1);
    EXPECT_EQ(out.errors_by_kind["http_5xx"], 1u);
  }
  ScriptedBackend good([](const GenerationRequest&) { return text("ok"); });
  auto out = run_eval(good, suite, items_, *store_, target_, o, ctx);
  EXPECT_EQ(out.already_done, 9u);
  ASSERT_EQ(good.requests().size(), 1u);
  EXPECT_EQ(good.requests()[0].messages.back().content, "7 turn 0");
  EXPECT_EQ(out.stored_errors, 0);
  EXPECT_EQ(store_->count_samples(target_.run_id, target_.model_id, target_.suite_id, false), 10);
  EXPECT_DOUBLE_EQ(out.metrics[0].value, 1.0);
}

TEST_F(EvalRunnerTest, SecondTurnFollowsTheModelsOwnAnswerWithoutReasoning) {
  EchoSuite suite(2);
  ScriptedBackend backend([](const GenerationRequest& r) {
    return text(r.messages.size() == 2 ? "<think>hmm</think>first" : "ok");
  });
  suites::ScoringContext ctx;
  EvalOptions o;
  o.limit = 1;
  auto out = run_eval(backend, suite, items_, *store_, target_, o, ctx);
  auto reqs = backend.requests();
  ASSERT_EQ(reqs.size(), 2u);
  ASSERT_EQ(reqs[1].messages.size(), 4u);
  EXPECT_EQ(reqs[1].messages[0].role, "system");
  EXPECT_EQ(reqs[1].messages[2].role, "assistant");
  EXPECT_EQ(reqs[1].messages[2].content, "first");
  EXPECT_EQ(reqs[1].messages[3].content, "0 turn 1");
  EXPECT_DOUBLE_EQ(out.metrics[0].value, 1.0);
}

TEST_F(EvalRunnerTest, AbortsWhenTheErrorRateIsExceededAndKeepsWhatWasStored) {
  EchoSuite suite(1);
  for (int i = 10; i < 200; ++i) items_.push_back({std::to_string(i), {{"gold", "ok"}}});
  ScriptedBackend down([](const GenerationRequest&) {
    GenerationResult r;
    r.error = ErrorInfo{"connect", "connection refused"};
    return r;
  });
  suites::ScoringContext ctx;
  EvalOptions o;
  o.concurrency = 2;
  auto out = run_eval(down, suite, items_, *store_, target_, o, ctx);
  EXPECT_TRUE(out.aborted);
  EXPECT_LT(out.requested, 200u);
  EXPECT_NE(out.first_error.find("connection refused"), std::string::npos);
  EXPECT_EQ(store_->count_samples(target_.run_id, target_.model_id, target_.suite_id, true),
            static_cast<int64_t>(out.failed));
}

// A suite whose data is broken for one item: prompt() throws.
class BrokenItemSuite : public EchoSuite {
 public:
  BrokenItemSuite() : EchoSuite(1) {}
  suites::PromptPlan prompt(const suites::Item& item) const override {
    if (item.id == "5") throw Error(ErrorCode::data, "item 5 has no question");
    return EchoSuite::prompt(item);
  }
};

TEST_F(EvalRunnerTest, ARunFailureDrainsWhatIsInFlightThenRethrowsAndKeepsStoredSamples) {
  BrokenItemSuite suite;
  ScriptedBackend slow([](const GenerationRequest&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    return text("ok");
  });
  suites::ScoringContext ctx;
  EvalOptions o;
  o.concurrency = 3;
  try {
    run_eval(slow, suite, items_, *store_, target_, o, ctx);
    FAIL() << "expected the suite's error";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("item 5 has no question"), std::string::npos);
  }
  // Every request that was sent came back before run_eval returned (none references a dead frame), and
  // the samples that finished are stored.
  store_->flush();
  const auto sent = slow.requests().size();
  EXPECT_GE(sent, 5u);
  EXPECT_LT(sent, 10u);
  EXPECT_GE(store_->count_samples(target_.run_id, target_.model_id, target_.suite_id, false), 5);
}

TEST_F(EvalRunnerTest, SeedsAreDerivedPerSampleAndStable) {
  EchoSuite suite(1);
  ScriptedBackend backend([](const GenerationRequest&) { return text("ok"); });
  suites::ScoringContext ctx;
  EvalOptions o;
  o.limit = 2;
  o.samples = 2;
  o.seed = 1234;
  run_eval(backend, suite, items_, *store_, target_, o, ctx);
  auto reqs = backend.requests();
  ASSERT_EQ(reqs.size(), 4u);
  std::set<uint64_t> seeds;
  for (const auto& r : reqs) {
    ASSERT_TRUE(r.sampling.seed.has_value());
    seeds.insert(*r.sampling.seed);
  }
  EXPECT_EQ(seeds.size(), 4u);
}

}  // namespace
}  // namespace hb::runner
