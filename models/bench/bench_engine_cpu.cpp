// CPU benchmark of the native engine on the tiny presets (docs/PERFORMANCE-ENGINE-CPU.md):
//   BM_Prefill/<preset>/<tokens>      prompt tokens/s of one prefill
//   BM_Decode/<preset>/<batch>        generated tokens/s of decode steps at a short context
//   BM_DecodeAtContext/tiny/mamba/<ctx>  per-token decode time of the all-Mamba model after a prefill of
//                                      <ctx> tokens: flat in ctx (the recurrent state does not grow)
//   BM_DecodeAtContext/tiny/teacher/<ctx> the same for the all-attention model (512, 2048: for contrast;
//                                      its prefill is too slow on the reference BLAS to go further)
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "models/model.h"

namespace {

using hb::models::Model;

std::vector<int32_t> tokens(int64_t n) {
  std::vector<int32_t> t(n);
  for (int64_t i = 0; i < n; ++i) t[i] = int32_t(3 + (i * 37) % 256);
  return t;
}

Model& model(const std::string& preset) {
  static std::map<std::string, std::unique_ptr<Model>> cache;
  auto& m = cache[preset];
  if (!m) {
    hb::models::ModelOptions o;
    // One intra-op thread by default: these models are op-overhead bound and Debian's reference BLAS is
    // single-threaded, so a second OpenMP thread only spins (HB_BENCH_THREADS overrides).
    o.threads = std::getenv("HB_BENCH_THREADS") ? std::atoi(std::getenv("HB_BENCH_THREADS")) : 1;
    m = Model::load("preset:" + preset, o);
  }
  return *m;
}

void BM_Prefill(benchmark::State& state, std::string preset) {
  Model& m = model(preset);
  const int64_t n = state.range(0);
  auto t = tokens(n);
  for (auto _ : state) {
    int s = m.create_sequence(n);
    benchmark::DoNotOptimize(m.forward({{s, t}}));
    m.release_sequence(s);
  }
  state.counters["tokens/s"] = benchmark::Counter(double(n) * state.iterations(), benchmark::Counter::kIsRate);
}

void BM_Decode(benchmark::State& state, std::string preset) {
  Model& m = model(preset);
  const int64_t batch = state.range(0);
  std::vector<int> seqs;
  for (int64_t b = 0; b < batch; ++b) {
    seqs.push_back(m.create_sequence(100000));
    m.forward({{seqs.back(), tokens(64)}});
  }
  for (auto _ : state) {
    std::vector<hb::models::SequenceInput> in;
    for (int s : seqs) in.push_back({s, {42}});
    benchmark::DoNotOptimize(m.forward(in));
  }
  for (int s : seqs) m.release_sequence(s);
  state.counters["tokens/s"] = benchmark::Counter(double(batch) * state.iterations(), benchmark::Counter::kIsRate);
}

void BM_DecodeAtContext(benchmark::State& state, std::string preset) {
  Model& m = model(preset);
  const int64_t ctx = state.range(0);
  int s = m.create_sequence(ctx + 100000);
  // Prefill in chunks of 1024 (chunked prefill continues from the saved state).
  for (int64_t done = 0; done < ctx; done += 1024) m.forward({{s, tokens(std::min<int64_t>(1024, ctx - done))}});
  for (auto _ : state) benchmark::DoNotOptimize(m.forward({{s, {42}}}));
  m.release_sequence(s);
  state.counters["context"] = double(ctx);  // Time and CPU columns are per decoded token
}

}  // namespace

BENCHMARK_CAPTURE(BM_Prefill, tiny/teacher, std::string("tiny/teacher"))->Arg(128)->Arg(512)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Prefill, tiny/h30, std::string("tiny/h30"))->Arg(128)->Arg(512)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Prefill, tiny/h40, std::string("tiny/h40"))->Arg(512)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Decode, tiny/teacher, std::string("tiny/teacher"))->Arg(1)->Arg(8)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Decode, tiny/h30, std::string("tiny/h30"))->Arg(1)->Arg(8)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Decode, tiny/h40, std::string("tiny/h40"))->Arg(1)->Arg(8)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DecodeAtContext, tiny/mamba, std::string("tiny/mamba"))
    ->Arg(1024)->Arg(4096)->Arg(16384)->Unit(benchmark::kMillisecond)->Iterations(50);
BENCHMARK_CAPTURE(BM_DecodeAtContext, tiny/teacher, std::string("tiny/teacher"))
    ->Arg(512)->Arg(2048)->Unit(benchmark::kMillisecond)->Iterations(20);

BENCHMARK_MAIN();
