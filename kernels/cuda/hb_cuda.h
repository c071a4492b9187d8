#pragma once
// hb::cuda: the engine's CUDA kernels (issue #6). Plain POD parameter structs and launchers; no LibTorch
// here (kernels/ops_cuda.cpp wraps them for tensors). bf16 data is passed as void* (the kernels read and
// write __nv_bfloat16); fp32 where the name says so. Every launcher runs on `stream` and returns the
// launch error (cudaSuccess when fine). Padding rows carry slot -1 and are skipped (outputs zeroed).
#include <cstdint>

#include <cuda_runtime.h>

namespace hb::cuda {

// ---- launches -----------------------------------------------------------------------------------------
// The decode path's kernels (GEMV, norms, RoPE, SwiGLU, decode attention, the m2 decode step) can be launched
// with programmatic dependent launch (kernels/cuda/pdl.cuh): each then overlaps its predecessor's tail. Off by
// default: on the H200 (2026-12-04, docs/PERFORMANCE.md sections 11 and 12) it first made the one-row step
// slower (teacher 7.86 -> 8.10 ms); with the GEMVs signalling after their main loop it gains 0.3-1.0 % at
// one row and nothing at the largest batches, too little to change how every kernel is launched. HYBENCH_CUDA_PDL=1 or set_programmatic_launch(true) turns it
// on (A/B measurements, tests); any other value of the variable leaves it off. Read at launch time: a CUDA graph keeps the mode it was captured with.
void set_programmatic_launch(bool on);
bool programmatic_launch();

// ---- decode attention (GQA, split over the context) ----------------------------------------------------
// KV cache of one attention layer, slot-based: k/v [slots, Hkv, max_ctx, HD] bf16 (each KV head's context is
// one contiguous stream). Query b attends to keys 0..lens[b]-1 of slot slots[b] (the last `window` of them
// with a sliding window: the splits then divide that range). One CTA serves the G=Hq/Hkv
// query heads of one KV head (in chunks of 1024/HD heads when G*HD > 1024) for one of num_splits splits of
// the row's actual length (one read of K and V; split_len is the plan's split at max_ctx, an upper bound);
// a second kernel merges the splits. part_o [B, Hq, num_splits, HD] fp32 and
// part_ml [B, Hq, num_splits, 2] are scratch.
struct DecodeAttnParams {
  const void* q;        // [B, Hq, HD] bf16
  const void* k_cache;  // layer base
  const void* v_cache;
  const int32_t* slots;  // [B]
  const int32_t* lens;   // [B]
  float* part_o;
  float* part_ml;
  void* out;  // [B, Hq*HD] bf16
  int B, Hq, Hkv, HD, max_ctx, split_len, num_splits;
  float scale;  // softmax scale (1/sqrt(HD))
  int window;   // > 0: sliding window, query b attends to keys max(0, lens[b]-window)..lens[b]-1 only; 0: all
};
struct DecodeAttnPlan {
  int num_splits, split_len;
};
// Splits for B sequences of at most max_len keys on a device with `sms` SMs: a pure function of
// its arguments (and of the override below), fixed for a CUDA graph when max_len is the pool's max context.
DecodeAttnPlan decode_attention_plan(int B, int Hkv, int G, int HD, int max_len, int sms);
cudaError_t decode_attention(const DecodeAttnParams& p, cudaStream_t stream);
// Benchmarks/tests: the CTAs per SM the split count aims at (0: the plan's choice, 2).
void set_decode_attention_ctas_per_sm(int ctas_per_sm);

// ---- RoPE + KV write ---------------------------------------------------------------------------------
// qkv [T, (Hq+2Hkv)*HD] bf16 (the fused projection): rotates q (-> q_out [T, Hq*HD]) and k (rotate-half, HF
// convention) at pos[t], and writes k, v into the cache row pos[t] of slot slots[t] (skipped when < 0).
// cos/sin tables: [max_pos, HD/2] fp32.
struct RopeKVParams {
  const void* qkv;
  void* q_out;
  void* k_cache;
  void* v_cache;
  const int32_t* slots;
  const int32_t* pos;
  const float* cos;
  const float* sin;
  int T, Hq, Hkv, HD, max_ctx;
};
cudaError_t rope_kv_write(const RopeKVParams& p, cudaStream_t stream);

// ---- RMSNorm + residual ------------------------------------------------------------------------------
// residual [T, H] fp32 += delta (bf16, may be null); out [T, H] bf16 = w * residual / rms(residual).
struct RmsNormParams {
  float* residual;
  const void* delta;
  const void* w;  // [H] bf16
  void* out;
  int T, H;
  float eps;
};
cudaError_t rms_norm_residual(const RmsNormParams& p, cudaStream_t stream);

// ---- SwiGLU activation: out [T, I] = silu(gu[:, :I]) * gu[:, I:] (bf16) --------------------------------
cudaError_t swiglu(const void* gate_up, void* out, int T, int I, cudaStream_t stream);

// ---- m2 mixer core: causal conv (+SiLU) + softplus(dt + 2b) + selective scan + D skip + SiLU(z) gate ---
// Varlen over packed rows: sequence s owns rows cu_seqlens[s]..cu_seqlens[s+1]-1 and continues from the
// conv window and SSM state of slot slots[s] (updated in place; -1: skipped, y rows zeroed). Decode is
// the case of one row per sequence. proj rows: z [0,di) | x [di, di+dxb) | B [di+dxb, di+2dxb) |
// C [di+2dxb, 2di+2dxb), row stride ld_proj. The x/B groups of N channels are repeated r = di/dxb times
// (before the conv, spec 3.3.2) by index arithmetic. When T == nseq (the decode step: one row per sequence)
// a decode-specialised kernel runs; it checks cu_seqlens itself, so any valid input stays correct (T = 0, the
// value-initialised default, always takes the prefill kernel).
struct M2Params {
  const void* proj;
  int64_t ld_proj;
  const void* dt;  // [T, di] bf16: dt_proj(dt_in_proj(u)) without bias
  int64_t ld_dt;
  const float* dt_bias2;  // [di] (2 * dt_proj.bias)
  const float* conv_w;    // [di, K]
  const float* conv_b;    // [di] or null
  const float* A2;        // [di, N]: -exp(A_log) * log2(e)
  const float* D;         // [di]
  void* conv_state;       // layer base: [slots, K-1, di] bf16
  float* ssm_state;       // layer base: [slots, N/4, di, 4] fp32 (element (c, n) at [n/4][c][n%4])
  const int32_t* cu_seqlens;
  const int32_t* slots;
  void* y;  // [T, di] bf16
  int nseq, di, dxb, N, K;
  int T;  // packed rows (cu_seqlens[nseq]) as the caller knows it from the shapes; 0: unknown
  // Prefill (T > nseq): device scratch of m2_prefill_scratch_bytes(T, nseq, di, N, K) bytes enables the
  // chunked parallel scan (time split into chunks of kM2Chunk rows; null: the sequential kernel).
  void* scratch = nullptr;
};
constexpr int kM2Chunk = 64;
size_t m2_prefill_scratch_bytes(int T, int nseq, int di, int N, int K);
cudaError_t m2_scan(const M2Params& p, cudaStream_t stream);
// Benchmarks/tests: the prefill path when scratch is given: 0 automatic (chunked unless nseq x di/128 >= 1024
// CTAs), 1 sequential, 2 chunked.
void set_m2_prefill_variant(int variant);
// Benchmarks/tests: the decode kernel's threads per channel (1, 2), -1 to run the prefill kernel for decode
// too, 0 for the default.
void set_m2_decode_variant(int tpc);

// ---- sampling (kernels/cuda/sampling.cu) ----------------------------------------------------------------
// Per-row sampling with the semantics of hb::models::Sampler: banned ids get -inf; temperature <= 0: greedy
// argmax (ties: lowest id); otherwise with p ~ exp((l - max)/T): keep the top_k largest (<= 0: off), then
// those with p >= min_p * p_max, then the shortest prefix (descending p, ties by lower id) whose mass,
// normalised over the top-k set, reaches top_p (at least one token); draw exactly from the kept set
// (Gumbel-max; RNG = counter-based hash of (seed[row], *step, token id), so only the stream differs from the
// CPU). logits [B, V] bf16 or fp32 with row stride ld, V <= 262144. Per-row arrays may be null: temperature
// -> temperature_all, top_k -> off, top_p -> 1, min_p -> 0, seed -> seed_all mixed with the row index.
// *step lives on the device so a CUDA graph can advance it (null: 0).
struct SampleParams {
  const void* logits;
  bool logits_fp32;
  int64_t ld;
  int B, V;
  const float* temperature;  // [B]
  const int32_t* top_k;      // [B]
  const float* top_p;        // [B] in (0, 1]
  const float* min_p;        // [B] in [0, 1)
  const int64_t* seed;       // [B]
  const int32_t* banned;     // [B, n_banned], -1 = unused entry (null when n_banned == 0)
  int n_banned;
  const int64_t* step;
  int64_t* tokens;  // [B]
  float* logprob;   // [B] or null: log-softmax of the raw logits (unscaled, bans ignored) at the chosen id
  float temperature_all = 0.f;
  uint64_t seed_all = 0;
};
cudaError_t sample(const SampleParams& p, cudaStream_t stream);
// Tests: send every filtered row down the general (bisection) path instead of the shared-memory candidates.
void set_sample_force_bisection(bool on);

// ---- weight-streaming GEMM for few rows (kernels/cuda/gemv.cu) ------------------------------------------
// y[M, N] = x[M, K] . w[N, K]^T, bf16 in and out, fp32 accumulation; 1 <= M <= kGemvMaxRows, K % 8 == 0,
// w's row stride (and x's with M > 1) a multiple of 8 elements, x and w 16-byte aligned (else
// cudaErrorInvalidValue).
// Fusions for the one-row decode step (M == 1 only, else cudaErrorInvalidValue): the input row is built in
// shared memory by every CTA from what the previous kernel left (no separate norm / activation kernel):
//   input rms_norm: x = bf16(res * rsqrt(mean(res^2) + eps) * norm_w), res = x_res [K] fp32 (the residual);
//                   p.x is not read
//   input swiglu:   x = bf16(silu(g) * u) with [g | u] = x [2K] bf16 (the gate|up projection's output)
// and with y_res set the epilogue adds to the fp32 residual instead of storing y: y_res[n] += (x . w_n).
constexpr int kGemvMaxRows = 8;
enum class GemvInput { plain, rms_norm, swiglu };
struct GemvParams {
  const void* x;
  int64_t ldx;
  const void* w;
  int64_t ldw;
  void* y;
  int64_t ldy;
  int M, N, K;
  GemvInput input = GemvInput::plain;
  const float* x_res = nullptr;  // rms_norm: the residual row [K]
  const void* norm_w = nullptr;  // rms_norm: [K] bf16
  float eps = 0.f;
  float* y_res = nullptr;  // non-null: y_res[n] += result (y unused)
};
cudaError_t gemv(const GemvParams& p, cudaStream_t stream);

// ---- bandwidth probe (kernels/cuda/bandwidth_probe.cu) -------------------------------------------------
// Reads `bytes` (a multiple of 16, 16-byte aligned) once with streaming loads over 4 CTAs per SM; *sink is
// written only for an impossible checksum. Time it to measure the device's streaming-read bandwidth.
cudaError_t stream_read(const void* buf, int64_t bytes, unsigned* sink, int sms, cudaStream_t stream);

}  // namespace hb::cuda
