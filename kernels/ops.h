#pragma once
// hb::kernels: the tensor-level operations the engine is built from. Every op here has a CPU reference
// (ops_cpu.cpp, fp32, LibTorch ops and plain loops) that is also the correctness oracle for the CUDA
// variants of issue #6; a CUDA launcher will slot in behind the same functions (dispatch on device).
// Engine-internal header: only models/ and kernels/ translation units include it (it includes LibTorch).
//
// Shapes: T tokens of one sequence (no padding anywhere), H hidden, nh/nkv heads, hd head dim,
// C = d_inner mamba channels, N = d_state.
#include <torch/torch.h>

namespace hb::kernels {

// RMSNorm over the last dim: w * x / sqrt(mean(x^2) + eps); statistic in fp32.
torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& w, double eps);

// Rotate-half RoPE (HF convention, dim i pairs with i + hd/2). x: [T, heads, hd]; positions: [T] int64.
torch::Tensor rope(const torch::Tensor& x, const torch::Tensor& positions, double theta);

// Causal GQA attention of T queries against the first `q_start + T` cached keys (the queries sit at
// absolute positions q_start..q_start+T-1). q: [T, nh, hd]; k, v: [S >= q_start+T, nkv, hd]. Softmax in
// fp32. Returns [T, nh*hd]. Covers prefill (q_start 0), chunked prefill and decode (T = 1).
// window > 0: sliding-window attention as Mistral defines it, the query at position p attends to keys at
// positions p-window+1..p (its last `window` keys); 0 = every earlier key.
torch::Tensor gqa_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, int64_t q_start,
                            int64_t window = 0);

// SwiGLU MLP: down(silu(gate(x)) * up(x)).
torch::Tensor swiglu_mlp(const torch::Tensor& x, const torch::Tensor& w_gate, const torch::Tensor& w_up,
                         const torch::Tensor& w_down);

// Depthwise causal conv1d + bias + SiLU over T steps, continuing from `conv_state` ([K-1, C], the previous
// K-1 inputs, oldest first; zeros for a fresh sequence), which is updated in place to the last K-1 inputs.
// x: [T, C]; w: [C, K] (w[:, K-1] multiplies the current input); b: [C] or undefined. Returns [T, C].
torch::Tensor causal_conv1d(const torch::Tensor& x, torch::Tensor& conv_state, const torch::Tensor& w,
                            const torch::Tensor& b);
// One decode step (T = 1) of the same; x: [C]. Returns [C].
torch::Tensor causal_conv1d_update(const torch::Tensor& x, torch::Tensor& conv_state, const torch::Tensor& w,
                                   const torch::Tensor& b);

// Mamba-1 selective scan with grouped B/C (the Apriel m2 mixer, spec 3.3.5), continuing from `state`
// ([C, N], fp32 or bf16, updated in place):
//   s[c,n] <- exp(delta[c]*A[c,n]) s[c,n] + delta[c] B[gB(c),n] x[c];  y[c] = sum_n C[gC(c),n] s[c,n] + D[c] x[c]
//   y <- y * silu(z)
// x, delta, z: [T, C]; A: [C, N] (already -exp(A_log)); Bg: [T, GB, N]; Cg: [T, GC, N] with gB(c) = c / (C/GB),
// gC(c) = c / (C/GC); D: [C]. Computes in fp32; returns y [T, C].
struct SelectiveScanArgs {
  torch::Tensor x, delta, z, A, Bg, Cg, D;
};
torch::Tensor selective_scan(const SelectiveScanArgs& args, torch::Tensor& state);
// One decode step: same arguments with T = 1 (shapes [1, ...]). Returns [1, C].
torch::Tensor selective_state_update(const SelectiveScanArgs& args, torch::Tensor& state);

// softplus with the reference kernels' threshold (returns v itself when v > 20).
torch::Tensor softplus(const torch::Tensor& v);

}  // namespace hb::kernels
