// Microbenchmarks of the CUDA kernels (kernels/ops_cuda.h) against their byte floors: each reports the
// GPU time per call (CUDA events, manual time) and the achieved TB/s of the bytes it must move (counter
// TBps; see docs/PERFORMANCE.md for each floor). Inputs rotate over several buffer sets so repeated calls
// do not run out of the 50 MB L2. Shapes: the 15B presets (Hq 32, Hkv 8, HD 128, H 5120, I 14336,
// d_inner 4096, d_xb 1024, d_state 16, vocab 131072).
#include <benchmark/benchmark.h>

#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include <functional>

#include <torch/torch.h>

#include "kernels/cuda/hb_cuda.h"
#include "kernels/ops_cuda.h"

namespace {
namespace kc = hb::kernels::cuda;

torch::TensorOptions bf16() { return torch::TensorOptions().device(torch::kCUDA).dtype(torch::kBFloat16); }
torch::TensorOptions f32() { return torch::TensorOptions().device(torch::kCUDA).dtype(torch::kFloat32); }
torch::TensorOptions i32() { return torch::TensorOptions().device(torch::kCUDA).dtype(torch::kInt32); }

// Captures kReps calls of fn(i) (inputs rotate with i) into one CUDA graph and times its replays with CUDA
// events: the per-call cost inside a graph, as in the engine's decode step (METHOD.md: many small launches ->
// time graph replays). Sets TBps (bytes per call) and the FLOP rate when given.
constexpr int kReps = 20;
void time_it(benchmark::State& st, double bytes, double flops, const std::function<void(int)>& fn) {
  for (int i = 0; i < 3; ++i) fn(i);  // warm-up, eager
  torch::cuda::synchronize();
  at::cuda::CUDAGraph graph;
  {
    auto side = c10::cuda::getStreamFromPool();
    c10::cuda::CUDAStreamGuard guard(side);
    graph.capture_begin();
    for (int r = 0; r < kReps; ++r) fn(r);
    graph.capture_end();
  }
  torch::cuda::synchronize();
  auto stream = at::cuda::getCurrentCUDAStream();
  graph.replay();
  for (auto _ : st) {
    at::cuda::CUDAEvent a(cudaEventDefault), b(cudaEventDefault);
    a.record(stream);
    graph.replay();
    b.record(stream);
    b.synchronize();
    st.SetIterationTime(a.elapsed_time(b) * 1e-3 / kReps);
  }
  st.counters["TBps"] = benchmark::Counter(bytes * 1e-12 * double(st.iterations()), benchmark::Counter::kIsRate);
  // Against the streaming-read ceiling measured once in this process (not a datasheet figure).
  static const double ceiling_tbs = kc::measure_device_ceiling(int64_t(2) << 30).read_tbs;
  st.counters["frac_of_read_ceiling"] = benchmark::Counter(bytes * 1e-12 * double(st.iterations()) / ceiling_tbs, benchmark::Counter::kIsRate);
  if (flops > 0) st.counters["TFLOPs"] = benchmark::Counter(flops * 1e-12 * double(st.iterations()), benchmark::Counter::kIsRate);
}

int rotations(double bytes) { return int(std::max(1.0, std::min(16.0, 4 * 50e6 / bytes + 1))); }

void BM_DecodeAttentionShape(benchmark::State& st, int B, int ctx) {
  if (!torch::cuda::is_available()) return st.SkipWithError("no CUDA device");
  const int Hq = 32, Hkv = 8, HD = 128;
  const double bytes = double(B) * Hkv * ctx * HD * 2 * 2;
  const int R = rotations(bytes);
  auto k = torch::randn({B * R, Hkv, ctx, HD}, bf16());
  auto v = torch::randn({B * R, Hkv, ctx, HD}, bf16());
  auto q = torch::randn({B, Hq * HD}, bf16());
  auto out = torch::empty({B, Hq * HD}, bf16());
  auto lens = torch::full({B}, ctx, i32());
  std::vector<torch::Tensor> slots;
  for (int r = 0; r < R; ++r) slots.push_back(torch::arange(r * B, (r + 1) * B, i32()));
  time_it(st, bytes, 4.0 * B * Hq * ctx * HD, [&](int i) { kc::decode_attention(q, k, v, slots[i % R], lens, out, ctx); });
  st.counters["rotations"] = R;
  st.counters["splits"] = hb::cuda::decode_attention_plan(B, Hkv, Hq / Hkv, HD, ctx, kc::sm_count()).num_splits;
}
void BM_DecodeAttention(benchmark::State& st) { BM_DecodeAttentionShape(st, int(st.range(0)), int(st.range(1))); }
// The engine's default (the automatic plan): B = 1 ... 32 at 16k (+ B=13 and two 4k points).
BENCHMARK(BM_DecodeAttention)->Args({1, 16384})->Args({2, 16384})->Args({4, 16384})->Args({8, 16384})->Args({16, 16384})
    ->Args({32, 16384})->Args({13, 16384})->Args({48, 16384})->Args({69, 16384})->Args({1, 4096})->Args({64, 4096})->UseManualTime()->Unit(benchmark::kMicrosecond);

// The split plan's CTAs per SM forced (the default is 2: one wave, 32 splits at B=1, 1 at B=32), at 16k:
// args {ctas_per_sm, B}.
void BM_DecodeAttentionSplits(benchmark::State& st) {
  hb::cuda::set_decode_attention_ctas_per_sm(int(st.range(0)));
  BM_DecodeAttentionShape(st, int(st.range(1)), 16384);
  hb::cuda::set_decode_attention_ctas_per_sm(0);
}
BENCHMARK(BM_DecodeAttentionSplits)->ArgsProduct({{1, 3, 4, 8}, {1, 8, 32}})->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_M2DecodeStepB(benchmark::State& st, int B) {
  if (!torch::cuda::is_available()) return st.SkipWithError("no CUDA device");
  const int di = 4096, dxb = 1024, N = 16, K = 4;
  const double state_bytes = double(B) * (di * N * 4.0 * 2 + (K - 1) * di * 2.0 * 2);
  const double io_bytes = double(B) * (2 * di + 2 * dxb + di + di) * 2.0;
  const int R = rotations(state_bytes);
  kc::M2Tensors w;
  w.proj = torch::randn({B, 2 * di + 2 * dxb + 16}, bf16());
  w.dt = torch::randn({B, di}, bf16());
  w.dt_bias2 = torch::randn({di}, f32());
  w.conv_w = torch::randn({di, K}, f32());
  w.conv_b = torch::randn({di}, f32());
  w.A2 = -torch::rand({di, N}, f32());
  w.D = torch::ones({di}, f32());
  auto conv = torch::randn({B * R, K - 1, di}, bf16());
  auto ssm = torch::randn({B * R, N / 4, di, 4}, f32());
  auto y = torch::empty({B, di}, bf16());
  auto cu = torch::arange(0, B + 1, i32());
  std::vector<torch::Tensor> slots;
  for (int r = 0; r < R; ++r) slots.push_back(torch::arange(r * B, (r + 1) * B, i32()));
  time_it(st, state_bytes, 0, [&](int i) { kc::m2_scan(w, conv, ssm, cu, slots[i % R], dxb, y); });
  st.counters["TBps_incl_io"] = benchmark::Counter((state_bytes + io_bytes) * 1e-12 * double(st.iterations()), benchmark::Counter::kIsRate);
}
void BM_M2DecodeStep(benchmark::State& st) { BM_M2DecodeStepB(st, int(st.range(0))); }
BENCHMARK(BM_M2DecodeStep)->Arg(1)->Arg(8)->Arg(32)->Arg(64)->Arg(128)->Arg(256)->UseManualTime()->Unit(benchmark::kMicrosecond);

// The decode kernel's threads per channel forced (1, 2; -1: the prefill kernel used for decode, the old
// path): args {tpc, B}.
void BM_M2DecodeStepVariant(benchmark::State& st) {
  hb::cuda::set_m2_decode_variant(int(st.range(0)));
  BM_M2DecodeStepB(st, int(st.range(1)));
  hb::cuda::set_m2_decode_variant(0);
}
BENCHMARK(BM_M2DecodeStepVariant)->ArgsProduct({{-1, 1, 2}, {1, 8, 32, 64, 128, 256}})
    ->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_M2Prefill(benchmark::State& st) {
  if (!torch::cuda::is_available()) return st.SkipWithError("no CUDA device");
  const int S = int(st.range(0)), T = int(st.range(1)), di = 4096, dxb = 1024, N = 16, K = 4;
  hb::cuda::set_m2_prefill_variant(int(st.range(2)));  // 1: sequential, 2: chunked parallel scan
  kc::M2Tensors w;
  w.proj = torch::randn({S * T, 2 * di + 2 * dxb + 16}, bf16());
  w.dt = torch::randn({S * T, di}, bf16());
  w.dt_bias2 = torch::randn({di}, f32());
  w.conv_w = torch::randn({di, K}, f32());
  w.conv_b = torch::randn({di}, f32());
  w.A2 = -torch::rand({di, N}, f32());
  w.D = torch::ones({di}, f32());
  auto conv = torch::randn({S, K - 1, di}, bf16());
  auto ssm = torch::randn({S, N / 4, di, 4}, f32());
  auto y = torch::empty({S * T, di}, bf16());
  auto cu = torch::arange(0, S * T + 1, T, i32());
  auto slots = torch::arange(0, S, i32());
  const double bytes = double(S) * T * (2 * di + 2 * dxb + 2 * di) * 2.0;
  time_it(st, bytes, 0, [&](int) { kc::m2_scan(w, conv, ssm, cu, slots, dxb, y); });
  st.counters["tokens_per_s"] = benchmark::Counter(double(S) * T * double(st.iterations()), benchmark::Counter::kIsRate);
  hb::cuda::set_m2_prefill_variant(0);
}
BENCHMARK(BM_M2Prefill)->ArgNames({"S", "T", "variant"})->ArgsProduct({{1}, {2048, 16384}, {1, 2}})
    ->Args({8, 2048, 1})->Args({8, 2048, 2})->Args({32, 512, 1})->Args({32, 512, 2})->UseManualTime()->Unit(benchmark::kMicrosecond);

// The decode step's GEMMs at 1..8 rows: the GEMV kernel (gemv 1) against cuBLAS (gemv 0), weight bytes as the
// floor. Shapes: q|k|v 6144x5120, o 5120x4096, gate|up 28672x5120, down 5120x14336, lm_head 131072x5120.
void BM_Linear(benchmark::State& st) {
  if (!torch::cuda::is_available()) return st.SkipWithError("no CUDA device");
  const int64_t M = st.range(0), N = st.range(1), K = st.range(2);
  kc::set_gemv_max_rows(st.range(3) != 0 ? hb::cuda::kGemvMaxRows : 0);
  const double bytes = double(N) * double(K) * 2.0;
  const int R = rotations(bytes);
  std::vector<torch::Tensor> ws;
  for (int r = 0; r < R; ++r) ws.push_back(torch::randn({N, K}, bf16()));
  auto x = torch::randn({M, K}, bf16());
  time_it(st, bytes, 2.0 * double(M) * double(N) * double(K), [&](int i) { kc::linear(x, ws[size_t(i % R)]); });
  kc::set_gemv_max_rows(1);
}
BENCHMARK(BM_Linear)->ArgNames({"M", "N", "K", "gemv"})
    ->ArgsProduct({{1, 4, 8}, {6144, 28672}, {5120}, {0, 1}})->ArgsProduct({{1, 8}, {5120}, {4096, 14336}, {0, 1}})
    ->ArgsProduct({{1}, {131072}, {5120}, {0, 1}})->UseManualTime()->Unit(benchmark::kMicrosecond);

// The one-row step's fused projections (ops_cuda.h): RMSNorm -> q|k|v (0) and gate|up (1), SwiGLU -> down +
// residual (2), o + residual (3). Against BM_Linear's plain GEMV on the same shape: the cost of the prologue
// (the input row built in shared memory by every CTA) and of the fp32 residual epilogue.
void BM_FusedLinear(benchmark::State& st) {
  if (!torch::cuda::is_available()) return st.SkipWithError("no CUDA device");
  const int kind = int(st.range(0));
  const int64_t H = 5120, I = 14336;
  const int64_t N = kind == 0 ? 6144 : kind == 1 ? 2 * I : H, K = kind == 2 ? I : kind == 3 ? 4096 : H;
  const double bytes = double(N) * double(K) * 2.0;
  const int R = rotations(bytes);
  std::vector<torch::Tensor> ws;
  for (int r = 0; r < R; ++r) ws.push_back(torch::randn({N, K}, bf16()));
  auto residual = torch::randn({1, kind >= 2 ? N : H}, f32());
  auto norm_w = torch::ones({H}, bf16());
  auto gate_up = torch::randn({1, 2 * I}, bf16());
  auto x = torch::randn({1, K}, bf16());
  time_it(st, bytes, 2.0 * double(N) * double(K), [&](int i) {
    const auto& w = ws[size_t(i % R)];
    if (kind <= 1) kc::norm_linear(residual, norm_w, 1e-5, w);
    else if (kind == 2) kc::swiglu_linear_add_(gate_up, w, residual);
    else kc::linear_add_(x, w, residual);
  });
}
BENCHMARK(BM_FusedLinear)->ArgNames({"kind"})->DenseRange(0, 3)->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_RmsNormResidual(benchmark::State& st) {
  const int T = int(st.range(0)), H = 5120;
  auto res = torch::randn({T, H}, f32());
  auto d = torch::randn({T, H}, bf16());
  auto w = torch::ones({H}, bf16());
  auto out = torch::empty({T, H}, bf16());
  time_it(st, double(T) * H * (4 + 2 + 4 + 2), 0, [&](int) { kc::rms_norm_residual(res, d, w, out, 1e-5); });
}
BENCHMARK(BM_RmsNormResidual)->Arg(1)->Arg(32)->Arg(2048)->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_SwiGLU(benchmark::State& st) {
  const int T = int(st.range(0)), I = 14336;
  auto gu = torch::randn({T, 2 * I}, bf16());
  auto out = torch::empty({T, I}, bf16());
  time_it(st, double(T) * I * 3 * 2, 0, [&](int) { kc::swiglu(gu, out); });
}
BENCHMARK(BM_SwiGLU)->Arg(1)->Arg(32)->Arg(2048)->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_RopeKVWrite(benchmark::State& st) {
  const int T = int(st.range(0)), Hq = 32, Hkv = 8, HD = 128, ctx = 4096;
  auto qkv = torch::randn({T, (Hq + 2 * Hkv) * HD}, bf16());
  auto q = torch::empty({T, Hq * HD}, bf16());
  auto k = torch::zeros({T, Hkv, ctx, HD}, bf16());
  auto v = torch::zeros({T, Hkv, ctx, HD}, bf16());
  auto slots = torch::arange(0, T, i32());
  auto pos = torch::full({T}, 1000, i32());
  auto tab = kc::rope_tables(ctx, HD, 1e6, torch::Device(torch::kCUDA));
  time_it(st, double(T) * (Hq + 2 * Hkv) * HD * 2 * 2, 0,
          [&](int) { kc::rope_kv_write(qkv, q, k, v, slots, pos, tab.first, tab.second, Hq, Hkv); });
}
BENCHMARK(BM_RopeKVWrite)->Arg(1)->Arg(32)->Arg(256)->UseManualTime()->Unit(benchmark::kMicrosecond);

// Per-row sampling at V = 131072 (bf16 logits), against the floor of reading the logits once (B*V*2 bytes).
// Arg 1 picks the rows: 0 greedy, 1 temperature 1, 2 temperature 0.6 + top_p 0.95 + top_k 50 (args {B, 2, 1}:
// the same rows on the general bisection path, for comparison). Logits are randn: for the filtered rows the
// thread-maxima bound keeps ~K candidates.
void BM_Sample(benchmark::State& st) {
  if (!torch::cuda::is_available()) return st.SkipWithError("no CUDA device");
  const int B = int(st.range(0)), mode = int(st.range(1)), V = 131072;
  const double bytes = double(B) * V * 2;
  const int R = rotations(bytes);
  std::vector<torch::Tensor> logits;
  for (int r = 0; r < R; ++r) logits.push_back(torch::randn({B, V}, bf16()));
  auto i64 = torch::TensorOptions().device(torch::kCUDA).dtype(torch::kInt64);
  auto tok = torch::empty({B}, i64);
  auto lp = torch::empty({B}, f32());
  auto step = torch::zeros({1}, i64);
  kc::SampleRows rows{torch::full({B}, mode == 0 ? 0.f : mode == 1 ? 1.f : 0.6f, f32()), torch::full({B}, mode == 2 ? 50 : -1, i32()),
                      torch::full({B}, mode == 2 ? 0.95f : 1.f, f32()), torch::zeros({B}, f32()), torch::arange(B, i64),
                      torch::Tensor()};
  hb::cuda::set_sample_force_bisection(st.range(2) != 0);
  time_it(st, bytes, 0, [&](int i) { kc::sample(logits[i % R], rows, step, tok, &lp); });
  hb::cuda::set_sample_force_bisection(false);
  st.counters["rotations"] = R;
}
BENCHMARK(BM_Sample)->ArgNames({"B", "mode", "bisect"})
    ->Args({1, 0, 0})->Args({32, 0, 0})->Args({256, 0, 0})
    ->Args({1, 1, 0})->Args({32, 1, 0})->Args({256, 1, 0})
    ->Args({1, 2, 0})->Args({32, 2, 0})->Args({256, 2, 0})->Args({32, 2, 1})
    ->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
