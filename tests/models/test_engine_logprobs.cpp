// Logprobs are of the raw model distribution (docs/ENGINE.md): checked against log_softmax of the logits of
// an independent full forward of the same model, under bans (ignore_eos, min_tokens), temperature and
// filters; and prompt logprobs (completions `echo`), chunked and batched with other requests.
#include <gtest/gtest.h>

#include <cmath>
#include <future>

#include "harness/base/error.h"
#include "models/engine.h"
#include "models/model.h"
#include "models/presets.h"
#include "tests/models/engine_run.h"
#include "tests/models/engine_test_util.h"

namespace hb::models {
namespace {

// The committed 4-layer Apriel hybrid (attention + m2) checkpoint: small enough for a full reference forward.
const std::string& model_dir() {
  static const std::string dir = testing::engine_data("hybrid-tiny");
  return dir;
}

using testing::run;

// log_softmax of every position's logits of `tokens`, from one prefill of a fresh sequence (float64 sums).
std::vector<std::vector<double>> reference_logprobs(const std::vector<int32_t>& tokens) {
  auto model = Model::load(model_dir());
  const int seq = model->create_sequence(int64_t(tokens.size()));
  auto flat = model->forward({{seq, tokens}}, /*all_logits=*/true)[0];
  const size_t V = size_t(model->config().vocab_size);
  std::vector<std::vector<double>> out;
  for (size_t j = 0; j < tokens.size(); ++j) {
    std::vector<double> row(flat.begin() + std::ptrdiff_t(j * V), flat.begin() + std::ptrdiff_t((j + 1) * V));
    double mx = -INFINITY, z = 0;
    for (double v : row) mx = std::max(mx, v);
    for (double v : row) z += std::exp(v - mx);
    for (auto& v : row) v -= mx + std::log(z);
    out.push_back(std::move(row));
  }
  return out;
}

// The reported logprobs of a generation match the raw distribution at every step, and the test has power:
// the banned EOS carries enough mass that a renormalised distribution would be off by more than the tolerance.
void expect_raw(const std::vector<int32_t>& prompt, const EngineResult& res, int32_t eos) {
  ASSERT_FALSE(res.tokens.empty());
  std::vector<int32_t> all = prompt;
  all.insert(all.end(), res.tokens.begin(), res.tokens.end());
  const auto ref = reference_logprobs(all);
  double max_shift = 0;
  ASSERT_EQ(res.logprobs.size(), res.tokens.size());
  for (size_t i = 0; i < res.tokens.size(); ++i) {
    const auto& row = ref[prompt.size() - 1 + i];
    EXPECT_NEAR(res.logprobs[i], row[size_t(res.tokens[i])], 1e-4) << "token " << i;
    max_shift = std::max(max_shift, -std::log1p(-std::exp(row[size_t(eos)])));
    ASSERT_EQ(res.top_logprobs.size(), res.tokens.size());
    // The top list is the raw one: EOS stays in it when it ranks there (it was banned from the draw).
    std::vector<std::pair<double, int32_t>> sorted;
    for (size_t v = 0; v < row.size(); ++v) sorted.emplace_back(row[v], int32_t(v));
    std::sort(sorted.rbegin(), sorted.rend());
    for (size_t k = 0; k < res.top_logprobs[i].size(); ++k) {
      EXPECT_NEAR(res.top_logprobs[i][k].second, sorted[k].first, 1e-4) << "token " << i << " rank " << k;
    }
  }
  EXPECT_GT(max_shift, 5e-4) << "EOS is too unlikely here for this test to tell raw from renormalised";
}

TEST(EngineLogprobs, RawUnderIgnoreEosMinTokensTemperatureAndFilters) {
  auto e = make_engine(model_dir());
  const int32_t eos = e->eos_ids().at(0);
  auto prompt = e->encode_prompt("hello there");
  EngineRequest r;
  r.id = "raw";
  r.prompt = prompt;
  r.max_tokens = 12;
  r.ignore_eos = true;
  r.sampling.top_logprobs = 20;
  expect_raw(prompt, run(*e, r), eos);
  r.ignore_eos = false;
  r.min_tokens = 12;
  r.sampling.temperature = 0.7;
  r.sampling.top_k = 20;
  r.sampling.top_p = 0.9;
  r.sampling.seed = 3;
  expect_raw(prompt, run(*e, r), eos);
}

TEST(EngineLogprobs, SamplerReportsTheRawLogprobOfABannedRow) {
  std::vector<float> logits = {2.f, 1.f, 0.5f, -1.f};
  SamplerConfig c;
  c.top_logprobs = 2;
  Sampler s(c);
  auto t = s.sample(logits, /*banned=*/{0});
  EXPECT_EQ(t.id, 1);
  EXPECT_FLOAT_EQ(t.logprob, token_logprob(logits, 1));
  EXPECT_LT(t.logprob, -1.0f);  // renormalised without id 0 it would be about -0.6
  ASSERT_EQ(t.top.size(), 2u);
  EXPECT_EQ(t.top[0].first, 0);  // the banned id still heads the raw top list
}

TEST(EngineLogprobs, PromptLogprobsChunkedAndBatched) {
  EngineOptions o;
  o.prefill_chunk_tokens = 3;  // chunk boundaries inside the prompt: each chunk's last position scores the next
  auto e = make_engine(model_dir(), o);
  auto prompt = e->encode_prompt("The quick brown fox jumps");
  ASSERT_GT(prompt.size(), 7u);
  const auto ref = reference_logprobs(prompt);

  // A long generation decodes beside the scoring requests.
  EngineRequest busy;
  busy.id = "busy";
  busy.prompt = e->encode_prompt("something else entirely");
  busy.max_tokens = 30;
  busy.ignore_eos = true;
  std::promise<EngineResult> busy_done;
  busy.on_done = [&busy_done](EngineResult res) { busy_done.set_value(std::move(res)); };
  e->submit(std::move(busy));

  EngineRequest r;
  r.id = "score";
  r.prompt = prompt;
  r.prompt_logprobs = 2;
  r.max_tokens = 0;  // scoring only
  auto res = run(*e, r);
  EXPECT_EQ(res.finish_reason, "length");
  EXPECT_TRUE(res.tokens.empty());
  ASSERT_EQ(res.prompt_logprobs.size(), prompt.size() - 1);
  for (size_t j = 0; j + 1 < prompt.size(); ++j) {
    const auto& p = res.prompt_logprobs[j];
    EXPECT_EQ(p.id, prompt[j + 1]);
    EXPECT_NEAR(p.logprob, ref[j][size_t(prompt[j + 1])], 1e-4) << "position " << j;
    ASSERT_EQ(p.top.size(), 2u);
    EXPECT_GE(p.top[0].second, p.top[1].second);
    EXPECT_GE(p.top[0].second + 1e-6, p.logprob);
  }

  // Scoring does not change what is generated (greedy), and the first generated token follows the prompt.
  r.max_tokens = 4;
  auto with = run(*e, r);
  EngineRequest plain;
  plain.id = "plain";
  plain.prompt = prompt;
  plain.max_tokens = 4;
  auto without = run(*e, plain);
  EXPECT_EQ(with.tokens, without.tokens);
  EXPECT_EQ(with.prompt_logprobs.size(), prompt.size() - 1);
  EXPECT_TRUE(without.prompt_logprobs.empty());
  EXPECT_EQ(busy_done.get_future().get().tokens.size(), 30u);
}

TEST(EngineLogprobs, BadScoringRequests) {
  auto e = make_engine(model_dir());
  EngineRequest r;
  r.id = "bad";
  r.prompt = e->encode_prompt("x");
  r.max_tokens = 0;  // without prompt_logprobs: nothing to do
  EXPECT_THROW(e->submit(r), Error);
  r.prompt_logprobs = 21;
  EXPECT_THROW(e->submit(r), Error);
  r.prompt_logprobs = 0;
  r.prompt = {1, 5, 100000};  // outside the 320-id vocabulary
  try {
    e->submit(r);
    ADD_FAILURE() << "an id outside the vocabulary was accepted";
  } catch (const Error& err) {
    EXPECT_NE(err.message().find("100000"), std::string::npos) << err.message();
  }
  r.prompt = {1, -3};
  EXPECT_THROW(e->submit(r), Error);
}

// An executor that keeps only each row's last logits (as the CUDA engine does): scoring requests are refused
// at submission with a message that names the way out, before anything runs.
class LastLogitsOnlyExecutor : public StepExecutor {
 public:
  const ModelConfig& config() const override { return config_; }
  std::string source_dir() const override { return ""; }
  int64_t max_context() const override { return 1024; }
  int max_sequences() const override { return 4; }
  int64_t kv_capacity_tokens() const override { return 4096; }
  int64_t prefill_chunk_tokens() const override { return 512; }
  int create_sequence(int64_t, const SamplerConfig&) override { return 0; }
  void release_sequence(int) override {}
  std::vector<SampledToken> step(const std::vector<StepRow>&) override { throw Error(ErrorCode::internal, "step must not run"); }
  nlohmann::json details() const override { return {{"device", "cuda"}}; }

 private:
  ModelConfig config_ = preset_config("tiny/h30");
};

TEST(EngineLogprobs, AnExecutorWithoutPromptScoringRefusesEcho) {
  auto e = make_engine(std::make_unique<LastLogitsOnlyExecutor>());
  EngineRequest r;
  r.id = "echo";
  r.prompt = e->encode_prompt("score me");
  r.max_tokens = 1;
  r.prompt_logprobs = 1;
  try {
    e->submit(r);
    ADD_FAILURE() << "accepted";
  } catch (const Error& err) {
    EXPECT_EQ(err.code(), ErrorCode::usage);
    EXPECT_NE(err.message().find("device=cpu"), std::string::npos) << err.message();
    EXPECT_NE(err.message().find("cuda"), std::string::npos) << err.message();
  }
}

}  // namespace
}  // namespace hb::models
