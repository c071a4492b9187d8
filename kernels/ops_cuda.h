#pragma once
// hb::kernels CUDA ops (issue #6): tensor-facing wrappers over kernels/cuda/*.cu with shape/dtype checks,
// launched on the current CUDA stream (so they can be captured in CUDA graphs). Built only when
// HYBENCH_HAVE_CUDA; the CPU references in ops.h are the correctness oracles (tests/kernels/).
// Layouts: KV cache per attention layer [slots, Hkv, max_ctx, HD] bf16; conv window per m2 layer
// [slots, K-1, di] bf16; SSM state per m2 layer [slots, N/4, di, 4] fp32 (element (c, n) at [n/4][c][n%4],
// so the kernels' 16-byte state accesses coalesce; ssm_state_to/from_canonical convert from/to [slots, di, N]). Slots / lens / positions are int32;
// slot -1 marks a padding row (skipped, outputs zeroed).
#include <torch/torch.h>

namespace hb::kernels::cuda {

// q [B, Hq*HD] (or [B, Hq, HD]) bf16 -> out [B, Hq*HD] bf16. max_len >= every lens[b] fixes the split plan
// (keep it constant across CUDA graph replays, e.g. the pool's max context).
// window > 0: sliding-window attention (each row sees its last `window` keys), 0: all keys.
void decode_attention(const torch::Tensor& q, const torch::Tensor& k_cache, const torch::Tensor& v_cache,
                      const torch::Tensor& slots, const torch::Tensor& lens, torch::Tensor& out, int64_t max_len,
                      int64_t window = 0);
// qkv [T, (Hq+2Hkv)*HD] bf16 -> q_out [T, Hq*HD] (rotated); k (rotated), v written at row pos[t] of slot slots[t].
void rope_kv_write(const torch::Tensor& qkv, torch::Tensor& q_out, torch::Tensor& k_cache, torch::Tensor& v_cache,
                   const torch::Tensor& slots, const torch::Tensor& pos, const torch::Tensor& cos, const torch::Tensor& sin,
                   int64_t Hq, int64_t Hkv);
// Builds the [max_pos, HD/2] fp32 cos/sin tables (angles in float64 as in the CPU reference).
std::pair<torch::Tensor, torch::Tensor> rope_tables(int64_t max_pos, int64_t head_dim, double theta, torch::Device device);
// residual [T, H] fp32 (+= delta bf16 when defined); out [T, H] bf16 = RMSNorm(residual) * w.
void rms_norm_residual(torch::Tensor& residual, const torch::Tensor& delta, const torch::Tensor& w, torch::Tensor& out, double eps);
// gate_up [T, 2I] bf16 -> out [T, I] bf16.
void swiglu(const torch::Tensor& gate_up, torch::Tensor& out);

struct M2Tensors {
  torch::Tensor proj;      // [T, >= 2di+2dxb] bf16 (z | x | B | C ...), row-contiguous
  torch::Tensor dt;        // [T, di] bf16, no bias
  torch::Tensor dt_bias2;  // [di] fp32
  torch::Tensor conv_w;    // [di, K] fp32
  torch::Tensor conv_b;    // [di] fp32 or undefined
  torch::Tensor A2;        // [di, N] fp32 = A * log2(e)
  torch::Tensor D;         // [di] fp32
};
// Conv + SiLU, softplus(dt + 2b), selective scan, D skip, SiLU(z) gate; y [T, di] bf16.
void m2_scan(const M2Tensors& w, torch::Tensor& conv_state, torch::Tensor& ssm_state, const torch::Tensor& cu_seqlens,
             const torch::Tensor& slots, int64_t dxb, torch::Tensor& y);

// x [T, K] bf16 (rows contiguous) . w [N, K]^T bf16 -> [T, N] bf16: the weight-streaming GEMV kernel for
// T <= gemv_max_rows when the shapes allow it (K % 8 == 0, aligned rows), else at::linear (cuBLAS). The default
// is 1 row: on the H200 (2026-12-03, docs/PERFORMANCE.md section 9) the kernel beat cuBLAS only at one row,
// and lost by up to 2.4x at 4-8 rows.
torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& w);
// Benchmarks/tests: the largest row count sent to the GEMV kernel (0: none, at most hb::cuda::kGemvMaxRows).
void set_gemv_max_rows(int rows);

// The one-row decode step's fused projections (the GEMV's prologue / epilogue fusions, hb_cuda.h): the norm
// and the activation are built inside the projection that reads them, the residual add inside the one that
// produces it. Available when fused_gemv(rows) (rows == 1 and the GEMV takes one row); every K is a multiple
// of 8, residual rows are fp32 [1, K] contiguous. Otherwise a usage error.
bool fused_gemv(int64_t rows);
// RMSNorm(residual) * norm_w . w^T -> [1, N] bf16.
torch::Tensor norm_linear(const torch::Tensor& residual, const torch::Tensor& norm_w, double eps, const torch::Tensor& w);
// residual [1, N] fp32 += x [1, K] . w^T (x may be a column slice: row stride a multiple of 8).
void linear_add_(const torch::Tensor& x, const torch::Tensor& w, torch::Tensor& residual);
// residual [1, N] fp32 += SwiGLU(gate_up [1, 2K]) . w^T.
void swiglu_linear_add_(const torch::Tensor& gate_up, const torch::Tensor& w, torch::Tensor& residual);

// Per-row sampling parameters (device tensors, one entry per logits row; hb::models::Sampler semantics, see
// hb_cuda.h): temperature [B] f32 (<= 0: greedy), top_k [B] i32 (<= 0: off), top_p [B] f32 in (0, 1],
// min_p [B] f32 in [0, 1), seed [B] i64, banned [B, n] i32 (-1 = unused entry) or undefined.
struct SampleRows {
  torch::Tensor temperature, top_k, top_p, min_p, seed, banned;
};
// logits [B, V] bf16/fp32 (rows contiguous, any row stride), V <= 262144 -> tokens [B] int64 and, when given,
// logprob [B] f32 (the chosen id's log-softmax of the raw logits after bans). step: int64 [1] on the device
// (the RNG counter a CUDA graph advances) or undefined (0).
void sample(const torch::Tensor& logits, const SampleRows& rows, const torch::Tensor& step, torch::Tensor& tokens,
            torch::Tensor* logprob = nullptr);
// One temperature and seed for every row (no filters); allocates nothing, so it can run inside graph capture.
void sample(const torch::Tensor& logits, double temperature, uint64_t seed, const torch::Tensor& step, torch::Tensor& tokens);

// [.., di, N] <-> [.., N/4, di, 4] (the pool layout of the SSM state).
torch::Tensor ssm_state_from_canonical(const torch::Tensor& t);
torch::Tensor ssm_state_to_canonical(const torch::Tensor& t);

int sm_count();

// The device's ceilings, measured now (bench engine reports every fraction against them): streaming read of
// a buffer (bytes read / s), device-to-device copy (bytes read + written / s), dense bf16 GEMM (FLOP/s).
struct DeviceCeiling {
  double read_tbs = 0, copy_tbs = 0, bf16_tflops = 0;
  int64_t buffer_bytes = 0;
};
DeviceCeiling measure_device_ceiling(int64_t buffer_bytes = int64_t(4) << 30);

}  // namespace hb::kernels::cuda
