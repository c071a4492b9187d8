// The load generator's own costs: building a seeded arrival schedule, building prompts, and computing a
// point's metrics from raw records (none of these may limit a sweep).
#include <benchmark/benchmark.h>

#include "harness/load/metrics.h"
#include "harness/load/schedule.h"
#include "harness/load/workload.h"

namespace {

void BM_ArrivalSchedule(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(hb::load::arrival_schedule(n, 100.0, 0.5, 42).data());
  state.counters["arrivals/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * n, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ArrivalSchedule)->Arg(1000)->Arg(100000);

void BM_WorkloadPrompt(benchmark::State& state) {
  hb::load::WorkloadOptions o;
  o.shape = {static_cast<int>(state.range(0)), 128};
  hb::load::Workload w(o);
  int i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(w.request(i++).messages.data());
  state.counters["prompt_tokens/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * state.range(0), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_WorkloadPrompt)->Arg(1024)->Arg(65536);

// Metrics of a point with state.range(0) requests of 256 one-token chunks each.
void BM_PointMetrics(benchmark::State& state) {
  hb::load::PointRun run;
  const int n = static_cast<int>(state.range(0));
  for (int i = 0; i < n; ++i) {
    hb::load::RequestTrace t;
    t.index = i;
    t.scheduled_ns = t.dispatch_ns = i * 1'000'000LL;
    auto& r = t.result;
    r.send_ns = t.dispatch_ns;
    r.first_byte_ns = r.send_ns + 1'000'000;
    for (int k = 0; k < 256; ++k) r.chunks.push_back({r.send_ns + 200'000'000LL + k * 20'000'000LL, 1, false});
    r.first_token_ns = r.first_content_ns = r.chunks.front().t_ns;
    r.end_ns = r.chunks.back().t_ns;
    r.usage.completion_tokens = 256;
    r.attempts = 1;
    run.traces.push_back(std::move(t));
  }
  hb::load::Slo slo;
  slo.ttft_ms = 250;
  for (auto _ : state) benchmark::DoNotOptimize(hb::load::compute_metrics(run, slo, 256).output_tok_per_s);
  state.counters["tokens/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * n * 256, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PointMetrics)->Arg(256)->Arg(4096);

}  // namespace

BENCHMARK_MAIN();
