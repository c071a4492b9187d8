// The engine loop: greedy determinism, batching invariance through the scheduler, stop strings and ids,
// min_tokens / ignore_eos, cancellation, timestamps, sampling seeds, and bad input.
#include <gtest/gtest.h>

#include <chrono>
#include <future>

#include "harness/base/error.h"
#include "models/engine.h"
#include "tests/models/engine_run.h"
#include "tests/models/engine_test_util.h"

namespace hb::models {
namespace {

using testing::run;

EngineRequest req(const std::vector<int32_t>& prompt, int max_tokens) {
  EngineRequest r;
  r.id = "t";
  r.prompt = prompt;
  r.max_tokens = max_tokens;
  return r;
}

TEST(Engine, GreedyIsDeterministicAndBatchInvariant) {
  auto e = make_engine("preset:tiny/h30");
  auto prompt = e->encode_prompt("What is 2+2? Think step by step.");
  auto a = run(*e, req(prompt, 12));
  auto b = run(*e, req(prompt, 12));
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_EQ(a.finish_reason, "length");
  EXPECT_EQ(a.tokens.size(), 12u);
  ASSERT_EQ(a.token_ns.size(), a.tokens.size());
  for (size_t i = 1; i < a.token_ns.size(); ++i) EXPECT_GE(a.token_ns[i], a.token_ns[i - 1]);
  EXPECT_GE(a.first_token_ns, a.submit_ns);
  // The same request among others (different prompts, chunked prefill interleaved with decode).
  std::vector<std::future<EngineResult>> fs;
  std::vector<std::promise<EngineResult>> ps(4);
  for (int i = 0; i < 4; ++i) {
    EngineRequest r = req(i == 2 ? prompt : e->encode_prompt(std::string(20 + 15 * i, 'a' + i)), 12);
    r.on_done = [&ps, i](EngineResult res) { ps[i].set_value(std::move(res)); };
    fs.push_back(ps[i].get_future());
    e->submit(std::move(r));
  }
  std::vector<EngineResult> rs;
  for (auto& f : fs) rs.push_back(f.get());
  EXPECT_EQ(rs[2].tokens, a.tokens);
}

TEST(Engine, MinTokensIgnoreEosAndStopIds) {
  auto e = make_engine("preset:tiny/teacher");
  auto prompt = e->encode_prompt("hello");
  EngineRequest r = req(prompt, 20);
  r.ignore_eos = true;
  auto res = run(*e, r);
  EXPECT_EQ(res.tokens.size(), 20u);
  for (auto t : res.tokens) EXPECT_NE(t, 2);
  // A stop id: the greedy continuation's third token.
  auto base = run(*e, req(prompt, 6));
  EngineRequest s = req(prompt, 6);
  s.stop_token_ids = {base.tokens[2]};
  auto stopped = run(*e, s);
  EXPECT_EQ(stopped.finish_reason, "stop");
  EXPECT_LE(stopped.tokens.size(), 3u);
}

TEST(Engine, StopStringsAreCutAndNeverStreamed) {
  auto e = make_engine("preset:tiny/h25");
  auto prompt = e->encode_prompt("abc");
  auto base = run(*e, req(prompt, 16));
  std::string text = base.text;
  if (text.size() < 4) GTEST_SKIP() << "continuation too short";
  std::string stop = text.substr(2, 2);
  EngineRequest r = req(prompt, 16);
  r.stop = {stop};
  std::string streamed;
  r.on_token = [&](const TokenEvent& ev) { streamed += ev.text; };
  auto res = run(*e, r);
  EXPECT_EQ(res.finish_reason, "stop");
  EXPECT_EQ(res.text, text.substr(0, text.find(stop)));
  EXPECT_EQ(streamed, res.text);
}

TEST(Engine, SeededSamplingReproducesAndTopLogprobs) {
  auto e = make_engine("preset:tiny/h40");
  auto prompt = e->encode_prompt("seed");
  EngineRequest r = req(prompt, 10);
  r.sampling.temperature = 1.0;
  r.sampling.top_p = 0.9;
  r.sampling.top_k = 50;
  r.sampling.min_p = 0.01;
  r.sampling.seed = 7;
  r.sampling.top_logprobs = 3;
  auto a = run(*e, r);
  auto b = run(*e, r);
  EXPECT_EQ(a.tokens, b.tokens);
  ASSERT_EQ(a.top_logprobs.size(), a.tokens.size());
  EXPECT_EQ(a.top_logprobs[0].size(), 3u);
  EXPECT_GE(a.top_logprobs[0][0].second, a.top_logprobs[0][1].second);
  r.sampling.seed = 8;
  auto c = run(*e, r);
  EXPECT_NE(a.tokens, c.tokens);
}

TEST(Engine, CancellationAndBadInput) {
  auto e = make_engine("preset:tiny/h30");
  auto prompt = e->encode_prompt("cancel me");
  std::promise<EngineResult> p;
  EngineRequest r = req(prompt, 5000);
  r.ignore_eos = true;
  r.on_done = [&p](EngineResult res) { p.set_value(std::move(res)); };
  uint64_t h = e->submit(std::move(r));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  e->cancel(h);
  auto res = p.get_future().get();
  EXPECT_EQ(res.finish_reason, "cancelled");
  EXPECT_LT(res.tokens.size(), 5000u);
  // The engine keeps serving.
  EXPECT_EQ(run(*e, req(prompt, 3)).tokens.size(), 3u);

  EXPECT_THROW(e->submit(req(prompt, 0)), Error);
  EngineRequest neg = req(prompt, 4);
  neg.sampling.temperature = -0.5;
  EXPECT_THROW(e->submit(neg), Error);
  EXPECT_THROW(e->submit(req(std::vector<int32_t>(40000, 5), 4)), Error);
  EXPECT_THROW(e->submit(req({}, 4)), Error);
}

TEST(Engine, CheckpointsWithTheirTokenizers) {
  for (const char* d : {"hybrid-tiny", "mistral-tiny"}) {
    auto e = make_engine(testing::engine_data(d));
    auto prompt = e->encode_chat({{"user", "Hi there"}});
    EXPECT_EQ(prompt[0], 1);  // exactly one BOS
    EXPECT_NE(prompt[1], 1);
    auto res = run(*e, req(prompt, 8));
    EXPECT_FALSE(res.tokens.empty());
  }
  auto h = make_engine(testing::engine_data("hybrid-tiny"));
  EXPECT_EQ(h->chat_format(), ChatFormat::apriel);
  auto m = make_engine(testing::engine_data("mistral-tiny"));
  EXPECT_EQ(m->chat_format(), ChatFormat::mistral_instruct);
}

}  // namespace
}  // namespace hb::models
