// Pure parts of the load module: CLI string parsing, arrival schedules, workloads and metric arithmetic
// on hand-made request records whose right answers are known.
#include <algorithm>
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "harness/base/error.h"
#include "harness/load/load_spec.h"
#include "harness/load/metrics.h"
#include "harness/load/schedule.h"
#include "harness/load/sweep.h"
#include "harness/load/workload.h"

namespace hb::load {
namespace {

constexpr int64_t kMs = 1'000'000;

template <typename Fn>
std::string usage_error(Fn fn) {
  try {
    fn();
  } catch (const hb::Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::usage);
    return e.message();
  }
  ADD_FAILURE() << "expected a usage error";
  return "";
}

TEST(LoadSpec, ParsesGoodStrings) {
  auto shapes = parse_shapes("1024:128, 1:16000");
  ASSERT_EQ(shapes.size(), 2u);
  EXPECT_EQ(shapes[0].input_tokens, 1024);
  EXPECT_EQ(shapes[1].output_tokens, 16000);
  EXPECT_EQ(parse_concurrency_list("1,8,32"), (std::vector<int>{1, 8, 32}));
  EXPECT_EQ(parse_rate_list("0.5,2"), (std::vector<double>{0.5, 2}));
  auto slo = parse_slo("ttft_ms=500,tpot_ms=50");
  EXPECT_EQ(*slo.ttft_ms, 500);
  EXPECT_EQ(*slo.tpot_ms, 50);
  EXPECT_FALSE(slo.e2e_ms.has_value());
}

TEST(LoadSpec, BadStringsAreClearUsageErrors) {
  EXPECT_NE(usage_error([] { parse_shapes("1024x128"); }).find("'1024x128' is not IN:OUT"), std::string::npos);
  EXPECT_NE(usage_error([] { parse_shapes("0:10"); }).find("positive"), std::string::npos);
  EXPECT_NE(usage_error([] { parse_concurrency_list("8,-1"); }).find("'-1'"), std::string::npos);
  EXPECT_NE(usage_error([] { parse_rate_list("2,abc"); }).find("'abc'"), std::string::npos);
  EXPECT_NE(usage_error([] { parse_rate_list("0"); }).find("positive"), std::string::npos);
  EXPECT_NE(usage_error([] { parse_slo("ttft_m=5"); }).find("did you mean 'ttft_ms'"), std::string::npos);
  EXPECT_NE(usage_error([] { parse_slo("tpot_ms=-3"); }).find("tpot_ms=-3"), std::string::npos);
  EXPECT_NE(usage_error([] { check_burstiness(0); }).find("--burstiness 0"), std::string::npos);
  EXPECT_NE(usage_error([] { check_burstiness(-1); }).find("Poisson"), std::string::npos);
}

TEST(Schedule, SeededRescaledAndBurstinessShapesTheGaps) {
  auto a = arrival_schedule(2001, 10.0, 1.0, 7);
  auto b = arrival_schedule(2001, 10.0, 1.0, 7);
  EXPECT_EQ(a, b) << "same seed, same schedule";
  EXPECT_NE(a, arrival_schedule(2001, 10.0, 1.0, 8));
  EXPECT_EQ(a.front(), 0);
  EXPECT_NEAR(a.back() / 1e9, 200.0, 1e-6) << "2000 gaps at 10/s span exactly 200 s";
  for (size_t i = 1; i < a.size(); ++i) ASSERT_GE(a[i], a[i - 1]);
  auto cv = [](const std::vector<int64_t>& s) {
    std::vector<double> g;
    for (size_t i = 1; i < s.size(); ++i) g.push_back(static_cast<double>(s[i] - s[i - 1]));
    double m = std::accumulate(g.begin(), g.end(), 0.0) / g.size(), v = 0;
    for (double x : g) v += (x - m) * (x - m);
    return std::sqrt(v / g.size()) / m;
  };
  // Gamma(shape k): coefficient of variation 1/sqrt(k).
  EXPECT_NEAR(cv(a), 1.0, 0.1);
  EXPECT_NEAR(cv(arrival_schedule(2001, 10.0, 0.25, 7)), 2.0, 0.3);
  EXPECT_NEAR(cv(arrival_schedule(2001, 10.0, 4.0, 7)), 0.5, 0.08);
  EXPECT_EQ(requests_for_duration(2.5, 10), 25);
}

TEST(Workload, PromptsHaveTheRequestedWordsAndForcedOutput) {
  WorkloadOptions o;
  o.shape = {50, 32};
  o.shared_prefix_tokens = 20;
  o.seed = 3;
  Workload w(o);
  auto r0 = w.request(0), r1 = w.request(1);
  auto words = [](const std::string& s) { return std::count(s.begin(), s.end(), ' ') + 1; };
  ASSERT_TRUE(r0.prompt.has_value()) << "random prompts go to /v1/completions by default";
  EXPECT_TRUE(r0.messages.empty());
  EXPECT_EQ(words(*r0.prompt), 50);
  EXPECT_NE(*r0.prompt, *r1.prompt);
  // The first 20 words are shared.
  auto prefix = [](const std::string& s) {
    size_t pos = 0;
    for (int i = 0; i < 20; ++i) pos = s.find(' ', pos) + 1;
    return s.substr(0, pos);
  };
  EXPECT_EQ(prefix(*r0.prompt), prefix(*r1.prompt));
  EXPECT_EQ(r0.sampling.max_tokens, 32);
  EXPECT_TRUE(r0.sampling.ignore_eos);
  EXPECT_EQ(*r0.sampling.min_tokens, 32);
  EXPECT_EQ(*w.request(0).prompt, *r0.prompt) << "deterministic";
  {
    WorkloadOptions ids = o;
    ids.vocab_size = 320;
    Workload w_ids(ids);
    auto a = w_ids.request(0), b = w_ids.request(1);
    ASSERT_EQ(a.prompt_token_ids.size(), 50u) << "exactly IN token ids";
    EXPECT_FALSE(a.prompt.has_value());
    for (int32_t id : a.prompt_token_ids) EXPECT_TRUE(id >= 0 && id < 320);
    EXPECT_TRUE(std::equal(a.prompt_token_ids.begin(), a.prompt_token_ids.begin() + 20, b.prompt_token_ids.begin()))
        << "the shared prefix is the same ids";
    EXPECT_NE(a.prompt_token_ids, b.prompt_token_ids);
    EXPECT_EQ(w_ids.request(0).prompt_token_ids, a.prompt_token_ids) << "deterministic";
    EXPECT_EQ(w_ids.describe()["prompt_method"], "random-token-ids-exact");
  }
  o.chat = true;
  Workload chat(o);
  ASSERT_EQ(chat.request(0).messages.size(), 1u);
  EXPECT_EQ(chat.request(0).messages[0].content, *r0.prompt);
  EXPECT_FALSE(chat.request(0).prompt.has_value());
}

TEST(Metrics, PercentilesInterpolateLikeNumpy) {
  std::vector<double> v = {4, 1, 3, 2};
  Distribution d = summarize(v);
  EXPECT_DOUBLE_EQ(d.p50, 2.5);
  EXPECT_DOUBLE_EQ(d.p90, 3.7);
  EXPECT_DOUBLE_EQ(d.mean, 2.5);
  EXPECT_NEAR(d.stdev, 1.2909944, 1e-6);
  std::vector<double> empty;
  EXPECT_EQ(summarize(empty).n, 0);
  EXPECT_TRUE(summarize(empty).to_json()["p50"].is_null());
}

// A request sent at `send`, first token after ttft, then `n-1` more chunks every `itl` ms.
RequestTrace trace(int index, int64_t send, int ttft_ms, int itl_ms, int n, int tokens_per_chunk = 1, bool usage = true) {
  RequestTrace t;
  t.index = index;
  t.scheduled_ns = send;
  t.dispatch_ns = send;
  GenerationResult& r = t.result;
  r.submit_ns = r.send_ns = send;
  r.first_byte_ns = send + 1 * kMs;
  int64_t at = send + ttft_ms * kMs;
  for (int i = 0; i < n; ++i) {
    r.chunks.push_back({at, tokens_per_chunk, false});
    at += itl_ms * kMs;
  }
  r.first_token_ns = r.first_content_ns = r.chunks.front().t_ns;
  r.end_ns = r.chunks.back().t_ns + kMs;
  r.finish_reason = "length";
  r.attempts = 1;
  r.endpoint = "http://a/v1";
  if (usage) r.usage.completion_tokens = n * tokens_per_chunk;
  return t;
}

TEST(Metrics, KnownScheduleGivesExactLatencies) {
  PointRun run;
  for (int i = 0; i < 10; ++i) run.traces.push_back(trace(i, i * 100 * kMs, 200, 20, 11));
  run.start_ns = 0;
  run.cpu_s = 0.0011;  // 1100 us over 110 tokens
  PointMetrics m = compute_metrics(run, Slo{}, 11);
  EXPECT_EQ(m.requests, 10);
  EXPECT_EQ(m.ok, 10);
  EXPECT_DOUBLE_EQ(m.ttft_ms.p50, 200);
  EXPECT_DOUBLE_EQ(m.ttft_ms.p99, 200);
  EXPECT_DOUBLE_EQ(m.itl_ms.p50, 20);
  EXPECT_EQ(m.itl_ms.n, 100) << "10 gaps per request, first chunk excluded";
  EXPECT_DOUBLE_EQ(m.e2e_ms.p50, 400);   // 200 + 10 * 20 to the last token
  EXPECT_DOUBLE_EQ(m.tpot_ms.p50, 20);   // (400 - 200) / (11 - 1)
  EXPECT_EQ(m.output_tokens, 110);
  EXPECT_EQ(m.output_length_mismatch, 0);
  EXPECT_EQ(m.token_count_source, "server_usage");
  EXPECT_NEAR(m.client_cpu_us_per_token, 10.0, 1e-9);
  EXPECT_EQ(m.goodput_req_per_s, -1) << "no SLO, no goodput";
  EXPECT_EQ(m.endpoints["http://a/v1"].requests, 10);
  // Steady window: first dispatch (0) to last dispatch (900 ms).
  EXPECT_EQ(m.window_kind, "steady");
  EXPECT_NEAR(m.window_s, 0.9, 1e-9);
  // Requests end 401 ms after dispatch: those dispatched at 0..400 ms end inside [0, 900 ms].
  EXPECT_EQ(m.window_completions, 5);
  EXPECT_NEAR(m.request_per_s, 5 / 0.9, 1e-9);
}

TEST(Metrics, ItlIsPerTokenWhenChunksCarrySeveralTokens) {
  PointRun run;
  run.traces.push_back(trace(0, 0, 100, 30, 4, /*tokens_per_chunk=*/3));
  PointMetrics m = compute_metrics(run, Slo{}, 0);
  EXPECT_EQ(m.itl_ms.n, 9) << "3 later chunks x 3 tokens";
  EXPECT_DOUBLE_EQ(m.itl_ms.p50, 10) << "a 30 ms gap over 3 tokens is 3 gaps of 10 ms";
  EXPECT_EQ(m.output_tokens, 12);
  EXPECT_DOUBLE_EQ(m.tpot_ms.p50, (190.0 - 100.0) / 11);
}

TEST(Metrics, WarmupErrorsSloAndFlags) {
  PointRun run;
  auto warm = trace(0, 0, 500, 20, 5);
  warm.warmup = true;
  run.traces.push_back(warm);
  run.traces.push_back(trace(1, 10 * kMs, 100, 10, 5));                  // meets ttft<=150, tpot<=15
  run.traces.push_back(trace(2, 20 * kMs, 300, 10, 5));                  // misses ttft
  run.traces.push_back(trace(3, 30 * kMs, 100, 10, 3, 1, false));        // no usage, short output
  RequestTrace failed = trace(4, 40 * kMs, 100, 10, 2);
  failed.result.error = ErrorInfo{"http_429", "slow down"};
  run.traces.push_back(failed);
  Slo slo;
  slo.ttft_ms = 150;
  slo.tpot_ms = 15;
  PointMetrics m = compute_metrics(run, slo, 5);
  EXPECT_EQ(m.warmup, 1);
  EXPECT_EQ(m.requests, 4);
  EXPECT_EQ(m.ok, 3);
  EXPECT_EQ(m.errors, 1);
  EXPECT_EQ(m.errors_by_kind["http_429"], 1);
  EXPECT_EQ(m.ttft_ms.n, 3) << "warm-up and failed requests are excluded";
  EXPECT_DOUBLE_EQ(m.ttft_ms.max, 300);
  EXPECT_EQ(m.token_count_source, "mixed");
  EXPECT_EQ(m.output_length_mismatch, 1) << "3 tokens instead of the forced 5";
  EXPECT_DOUBLE_EQ(m.slo_attainment, 2.0 / 4.0) << "requests 1 and 3 meet both SLOs; the failed one does not";
  // Goodput counts the good completions inside the window (requests 1 and 3), like vLLM's good requests / s.
  EXPECT_EQ(m.window_kind, "whole_run");
  EXPECT_DOUBLE_EQ(m.goodput_req_per_s, 2 / m.window_s);
  EXPECT_LT(m.slo_met, 0) << "no percentile, no verdict";
}

TEST(LoadSpec, SloPercentileKeys) {
  auto slo = parse_slo("ttft_p99=500,tpot_p99=50,e2e_p99=9000");
  EXPECT_EQ(*slo.ttft_ms, 500);
  EXPECT_EQ(*slo.e2e_ms, 9000);
  EXPECT_EQ(*slo.percentile, 99);
  EXPECT_EQ(*parse_slo("tpot_p99.9=20").percentile, 99.9);
  EXPECT_FALSE(parse_slo("ttft_ms=5").percentile);
  EXPECT_NE(usage_error([] { parse_slo("ttft_p99=500,tpot_p90=50"); }).find("p99 and p90 differ"), std::string::npos);
  EXPECT_NE(usage_error([] { parse_slo("ttft_p100=5"); }).find("unknown key 'ttft_p100'"), std::string::npos);
  EXPECT_NE(usage_error([] { parse_slo("itl_p99=5"); }).find("unknown key 'itl_p99'"), std::string::npos);
}

TEST(Metrics, LatenciesCountFromWhenTheRequestWasDueWithConnectTimeApart) {
  PointRun run;
  // Open loop: due at 1 ms, dispatched 2 ms late, held by the client and connecting until 16 ms (5 ms
  // connect), first token at 116 ms.
  RequestTrace t = trace(0, 16 * kMs, 100, 10, 5);
  t.scheduled_ns = 1 * kMs;
  t.dispatch_ns = 3 * kMs;
  t.result.connect_ns = 5 * kMs;
  run.traces.push_back(t);
  run.traces.push_back(trace(1, 20 * kMs, 100, 10, 5));  // a reused connection: no connect time
  run.start_ns = 0;
  PointMetrics m = compute_metrics(run, Slo{}, 5);
  EXPECT_DOUBLE_EQ(m.ttft_ms.max, 115) << "from when it was due, not from the send at 16 ms";
  EXPECT_DOUBLE_EQ(m.e2e_ms.max, 155);
  EXPECT_DOUBLE_EQ(m.tpot_ms.p50, 10) << "TPOT does not depend on the origin";
  EXPECT_EQ(m.connect_ms.n, 1);
  EXPECT_DOUBLE_EQ(m.connect_ms.p50, 5);
  EXPECT_DOUBLE_EQ(m.queue_ms.max, 15);
  EXPECT_DOUBLE_EQ(m.lag_ms.max, 2);
  EXPECT_TRUE(m.to_json()["connect_ms"]["p50"].is_number());
}

// The GPU case of issue 17: 64 long requests at concurrency 64, dispatched over 315 ms, each taking 2 s: no
// completion inside the steady window. The rates come from the whole measured interval, never 0, and the
// point says so.
TEST(Metrics, SteadyWindowWithoutCompletionsFallsBackToTheWholeIntervalAndIsMarked) {
  PointRun run;
  for (int i = 0; i < 64; ++i) run.traces.push_back(trace(i, i * 5 * kMs, 100, 10, 191));
  run.start_ns = 0;
  PointMetrics m = compute_metrics(run, Slo{{}, {}, {5000.0}, 99.0}, 191);
  EXPECT_EQ(m.window_kind, "whole_run");
  EXPECT_NE(m.window_note.find("0 of 64 completions"), std::string::npos) << m.window_note;
  EXPECT_EQ(m.window_completions, 64);
  const double interval = (63 * 5 + 100 + 1900 + 1) / 1000.0;  // first dispatch to last completion
  EXPECT_NEAR(m.window_s, interval, 1e-9);
  EXPECT_NEAR(m.window_end_s, interval, 1e-9);
  EXPECT_NEAR(m.request_per_s, 64 / interval, 1e-9);
  EXPECT_NEAR(m.output_tok_per_s, 64 * 191 / interval, 1e-6);
  EXPECT_NEAR(m.goodput_req_per_s, 64 / interval, 1e-9);
  EXPECT_EQ(m.slo_met, 1);
  auto j = m.to_json();
  EXPECT_EQ(j["window_kind"], "whole_run");
  EXPECT_TRUE(j["window_note"].is_string());
  EXPECT_EQ(j["slo_met"], true);
  // The table marks the point and says what the mark means.
  SweepResult r;
  r.points.push_back({{10, 191}, {LoadKind::concurrency, 64, 1}, 0, false, j});
  std::string table = render_table(r);
  EXPECT_NE(table.find(fmt::format("{:.1f}s*", interval)), std::string::npos) << table;
  EXPECT_NE(table.find("* steady window too short"), std::string::npos) << table;
  EXPECT_EQ(table.find(" 0.00 "), std::string::npos) << table;
}

TEST(Metrics, SloPercentileVerdict) {
  PointRun run;
  for (int i = 0; i < 10; ++i) run.traces.push_back(trace(i, i * 100 * kMs, i == 9 ? 900 : 100, 10, 5));
  Slo slo;
  slo.ttft_ms = 500;
  slo.percentile = 90;
  EXPECT_EQ(compute_metrics(run, slo, 5).slo_met, 1) << "9 of 10 within bound: p90 met";
  slo.percentile = 95;
  EXPECT_EQ(compute_metrics(run, slo, 5).slo_met, 0);
}

TEST(Sweep, DefaultRequestCountScalesWithTheLoad) {
  EXPECT_EQ(default_requests({LoadKind::concurrency, 1, 1}), 100);
  EXPECT_EQ(default_requests({LoadKind::concurrency, 64, 1}), 256);
  EXPECT_EQ(default_requests({LoadKind::concurrency, 256, 1}), 1024);
  EXPECT_EQ(default_requests({LoadKind::rate, 2, 1}), 100);
  EXPECT_EQ(default_requests({LoadKind::rate, 50, 1}), 1000);
}

TEST(Sweep, RepeatsReportMedianSpreadAndUnstable) {
  std::vector<SweepPoint> pts;
  for (double v : {100.0, 104.0, 130.0}) {
    SweepPoint p;
    p.shape = {10, 10};
    p.load = {LoadKind::concurrency, 4, 1};
    p.metrics = {{"output_tok_per_s", v}, {"ttft_ms", {{"p50", 5.0}}}};
    pts.push_back(p);
  }
  auto s = summarize_repeats(pts, 0.10);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_DOUBLE_EQ(s[0]["output_tok_per_s"]["median"].get<double>(), 104.0);
  EXPECT_NEAR(s[0]["output_tok_per_s"]["spread"].get<double>(), 30.0 / 104.0, 1e-12);
  EXPECT_TRUE(s[0]["unstable"].get<bool>());
  EXPECT_FALSE(summarize_repeats(pts, 0.5)[0]["unstable"].get<bool>());
  EXPECT_EQ(point_key({10, 10}, {LoadKind::rate, 2.5, 1}, 1), "shape=10:10|rate=2.5,burstiness=1|repeat=1");
}

}  // namespace
}  // namespace hb::load
