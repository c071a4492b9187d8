// The m2 mixer core over packed varlen rows (see hb_cuda.h): decode (one row per sequence, the fused m2
// decode step) and prefill / chunked prefill (many rows, continuing from the saved state) are one kernel.
//
// Floor for a decode step (METHOD.md), per sequence and layer: SSM state read + written (di*N*4*2 B), conv
// window read + written ((K-1)*di*2*2 B), plus the row's z/x/B/C/dt (~(2di+2dxb+di)*2 B) and y (di*2 B);
// the per-layer constants (A, D, conv weights: ~di*(N+K+3)*4 B) are shared by the batch. "State traffic"
// in the targets counts the SSM state and conv window bytes only.
// Prefill design (m2_kernel): one thread per (sequence, channel) holding its N-element fp32 state and the K-1
// conv inputs in registers, walking the sequence's rows in order; exp2 with log2(e) folded into A.
//
// Chunked prefill (m2_chunk_* kernels, issue #14): the sequential kernel runs di/128 CTAs per sequence (32 for
// di 4096), each thread walking every row, so a 2k prompt is latency-bound at ~1 us per row per layer. The
// recurrence h_t = a_t h_{t-1} + b_t (a_t = exp2(d_t A2), per channel and state) is linear, so time is split
// into chunks of kM2Chunk rows: (1) every (chunk, channel) scans its rows from a zero state, keeping the local
// end state and sum(d) (the chunk's decay is exp2(A2 sum d)), and saves the conv inputs preceding the chunk;
// (2) one thread per (sequence, channel, 4 states) walks the sequence's chunks in order, turning each local
// end state into the state entering the chunk and writing the final state to the slot; (3) every (chunk,
// channel) rescans its rows from the entering state and writes y (the last chunk also the conv window).
// Floor at T=2048, di 4096, N 16, dxb 1024 per layer: rows read twice (z|x|B|C + dt: ~57 KB per row) + y ->
// ~120 MB, 28 us at 4.3 TB/s; 2 x T x di x N = 268M exp2 on the SFUs (~16/clk/SM) -> ~65 us: compute-bound,
// versus ~2.5 ms for the sequential kernel.
//
// Decode design (m2_decode_kernel, chosen by the launcher when T == nseq; no flag, no host sync). Floor written
// before it: per sequence di*N*4*2 + (K-1)*di*2*2 = 573 KB of state traffic (di 4096, N 16): 18.4 MB at B=32
// -> 5.5 us at 3.35 TB/s, 6.1 us at the ~3.0 TB/s copy ceiling; the target 2.5 TB/s is 7.4 us, so the fixed
// part (launch, the slot round trip, the drain of the last stores) may cost ~1 us at most.
// - TPC threads per channel, each owning N/TPC state values (one or more float4 of the [N/4][di][4] layout);
//   lanes of a channel are adjacent and reduce y by shuffles. TPC 1 (16 state loads in flight per thread,
//   64 registers: B=32 is one wave of 1,024 CTAs) from B > 8; TPC 2 below (twice the CTAs for few sequences).
//   Measured (H100, 2026-11-23, in a graph): B=1/8/32/64/128/256: TPC 2: 2.26/3.59 us, TPC 1: 8.0/14.9/27.3/
//   55.0 us (2.29/2.46/2.69/2.67 TB/s) vs the prefill kernel 2.74/4.24/11.6/18.3/34.8/63.4 us; TPC 4 lost at
//   every batch and was deleted.
// - Only the slot load precedes the state loads: the row (z, x, B, C, dt) is read speculatively at row s
//   (decode: cu_seqlens[s] == s) together with the slot, cu_seqlens and the per-layer constants, so one round
//   trip of latency precedes the state stream. A sequence whose rows turn out not to be exactly {s} (possible
//   in principle when T == nseq) takes a general per-row loop from the same registers.
#include <cuda_bf16.h>

#include "kernels/cuda/hb_cuda.h"
#include "kernels/cuda/pdl.cuh"

namespace hb::cuda {
namespace {

constexpr int kThreads = 128;

__device__ __forceinline__ float silu(float v) { return v / (1.f + __expf(-v)); }
__device__ __forceinline__ float softplus20(float v) { return v > 20.f ? v : log1pf(__expf(v)); }

template <int N, int K>
__global__ void __launch_bounds__(kThreads) m2_kernel(M2Params p) {
  const int c = blockIdx.x * kThreads + threadIdx.x;
  const int s = blockIdx.y;
  if (c >= p.di) return;
  const int beg = p.cu_seqlens[s], end = p.cu_seqlens[s + 1];
  const int slot = p.slots[s];
  const __nv_bfloat16* proj = static_cast<const __nv_bfloat16*>(p.proj);
  const __nv_bfloat16* dtp = static_cast<const __nv_bfloat16*>(p.dt);
  __nv_bfloat16* y = static_cast<__nv_bfloat16*>(p.y);
  if (slot < 0) {
    for (int t = beg; t < end; ++t) y[(int64_t)t * p.di + c] = __float2bfloat16(0.f);
    return;
  }
  const int r = p.di / p.dxb;
  const int xb = (c / (N * r)) * N;        // first column of this channel's x/B group (after the repeat)
  const int xcol = p.di + xb + c % N;      // x~[c]
  const int bcol = p.di + p.dxb + xb;      // B row
  const int ccol = p.di + 2 * p.dxb + (c / N) * N;  // C row
  float w[K];
#pragma unroll
  for (int k = 0; k < K; ++k) w[k] = p.conv_w[(int64_t)c * K + k];
  const float cb = p.conv_b ? p.conv_b[c] : 0.f;
  const float bias = p.dt_bias2[c];
  const float Dc = p.D[c];
  float A[N];
#pragma unroll
  for (int n = 0; n < N; n += 4) {
    const float4 a = *reinterpret_cast<const float4*>(p.A2 + (int64_t)c * N + n);
    A[n] = a.x; A[n + 1] = a.y; A[n + 2] = a.z; A[n + 3] = a.w;
  }
  __nv_bfloat16* cs = static_cast<__nv_bfloat16*>(p.conv_state) + (int64_t)slot * (K - 1) * p.di + c;
  float win[K - 1];
#pragma unroll
  for (int k = 0; k < K - 1; ++k) win[k] = __bfloat162float(cs[(int64_t)k * p.di]);
  // State layout [slot][N/4][di][4]: the k-th float4 of consecutive channels is contiguous, so every
  // warp-wide 16-byte load/store is fully coalesced.
  float* hs = p.ssm_state + (int64_t)slot * p.di * N + (int64_t)c * 4;
  float h[N];
#pragma unroll
  for (int n = 0; n < N; n += 4) {
    const float4 v = *reinterpret_cast<const float4*>(hs + (int64_t)(n / 4) * p.di * 4);
    h[n] = v.x; h[n + 1] = v.y; h[n + 2] = v.z; h[n + 3] = v.w;
  }
  for (int t = beg; t < end; ++t) {
    const __nv_bfloat16* row = proj + (int64_t)t * p.ld_proj;
    const float xt = __bfloat162float(row[xcol]);
    float acc = cb;
#pragma unroll
    for (int k = 0; k < K - 1; ++k) acc = fmaf(w[k], win[k], acc);
    acc = fmaf(w[K - 1], xt, acc);
#pragma unroll
    for (int k = 0; k < K - 2; ++k) win[k] = win[k + 1];
    win[K - 2] = xt;
    const float xc = silu(acc);
    const float d = softplus20(__bfloat162float(dtp[(int64_t)t * p.ld_dt + c]) + bias);
    const float dx = d * xc;
    float out = 0.f;
#pragma unroll
    for (int n = 0; n < N; ++n) {
      const float bn = __bfloat162float(row[bcol + n]);
      const float cn = __bfloat162float(row[ccol + n]);
      h[n] = fmaf(exp2f(d * A[n]), h[n], dx * bn);
      out = fmaf(cn, h[n], out);
    }
    out = fmaf(Dc, xc, out);
    const float z = __bfloat162float(row[c]);
    y[(int64_t)t * p.di + c] = __float2bfloat16(out * silu(z));
  }
#pragma unroll
  for (int n = 0; n < N; n += 4) {
    *reinterpret_cast<float4*>(hs + (int64_t)(n / 4) * p.di * 4) = make_float4(h[n], h[n + 1], h[n + 2], h[n + 3]);
  }
#pragma unroll
  for (int k = 0; k < K - 1; ++k) cs[(int64_t)k * p.di] = __float2bfloat16(win[k]);
}

// ---- chunked prefill ------------------------------------------------------------------------------------
// Scratch layout (m2_prefill_scratch_bytes): chunk table int4 [max_chunks] (seq, first row, end row, is first
// chunk of its sequence; seq -1: unused), seq_first int [nseq + 1] (each sequence's first chunk), then fp32:
// states [max_chunks][N/4][di][4], dsum [max_chunks][di], window [max_chunks][K-1][di].
struct ChunkScratch {
  int4* chunks;
  int* seq_first;
  float* states;
  float* dsum;
  float* win;
};
int max_chunks(int T, int nseq) { return (T + kM2Chunk - 1) / kM2Chunk + nseq; }
size_t align256(size_t b) { return (b + 255) & ~size_t(255); }
ChunkScratch carve(void* base, int T, int nseq, int di, int N, int K) {
  const size_t mc = size_t(max_chunks(T, nseq));
  char* b = static_cast<char*>(base);
  ChunkScratch cs;
  cs.chunks = reinterpret_cast<int4*>(b);
  b += align256(mc * sizeof(int4));
  cs.seq_first = reinterpret_cast<int*>(b);
  b += align256(size_t(nseq + 1) * sizeof(int));
  cs.states = reinterpret_cast<float*>(b);
  b += align256(mc * size_t(di) * size_t(N) * sizeof(float));
  cs.dsum = reinterpret_cast<float*>(b);
  b += align256(mc * size_t(di) * sizeof(float));
  cs.win = reinterpret_cast<float*>(b);
  return cs;
}

// One thread: a few hundred iterations at most (T / 64 + nseq).
__global__ void m2_chunk_table_kernel(const int32_t* cu, int nseq, int mc, ChunkScratch cs) {
  if (threadIdx.x != 0 || blockIdx.x != 0) return;
  int g = 0;
  for (int s = 0; s < nseq; ++s) {
    cs.seq_first[s] = g;
    const int beg = cu[s], end = cu[s + 1];
    for (int r = beg; r < end && g < mc; r += kM2Chunk) cs.chunks[g++] = make_int4(s, r, min(r + kM2Chunk, end), r == beg);
  }
  cs.seq_first[nseq] = g;
  for (; g < mc; ++g) cs.chunks[g] = make_int4(-1, 0, 0, 0);
}

// The per-channel constants and column offsets of one channel (as in m2_kernel).
template <int N, int K>
struct ChannelConsts {
  float w[K], cb, bias, Dc, A[N];
  int xcol, bcol, ccol;
  __device__ ChannelConsts(const M2Params& p, int c) {
    const int r = p.di / p.dxb;
    const int xb = (c / (N * r)) * N;
    xcol = p.di + xb + c % N;
    bcol = p.di + p.dxb + xb;
    ccol = p.di + 2 * p.dxb + (c / N) * N;
#pragma unroll
    for (int k = 0; k < K; ++k) w[k] = p.conv_w[(int64_t)c * K + k];
    cb = p.conv_b ? p.conv_b[c] : 0.f;
    bias = p.dt_bias2[c];
    Dc = p.D[c];
#pragma unroll
    for (int n = 0; n < N; n += 4) {
      const float4 a = *reinterpret_cast<const float4*>(p.A2 + (int64_t)c * N + n);
      A[n] = a.x; A[n + 1] = a.y; A[n + 2] = a.z; A[n + 3] = a.w;
    }
  }
};

// Pass 1 (WITH_Y false): local scan from zero, saving the preceding conv inputs, the end state and sum(d).
// Pass 3 (WITH_Y true): rescan from the entering state written by the carry pass, writing y (and, for a
// sequence's last chunk, the conv window).
template <int N, int K, bool WITH_Y>
__global__ void __launch_bounds__(kThreads) m2_chunk_scan_kernel(M2Params p, ChunkScratch cs) {
  const int c = blockIdx.x * kThreads + threadIdx.x;
  const int g = blockIdx.y;
  if (c >= p.di) return;
  const int4 ch = cs.chunks[g];
  if (ch.x < 0) return;
  const int slot = p.slots[ch.x];
  __nv_bfloat16* y = static_cast<__nv_bfloat16*>(p.y);
  if (slot < 0) {
    if (WITH_Y)
      for (int t = ch.y; t < ch.z; ++t) y[(int64_t)t * p.di + c] = __float2bfloat16(0.f);
    return;
  }
  const __nv_bfloat16* proj = static_cast<const __nv_bfloat16*>(p.proj);
  const __nv_bfloat16* dtp = static_cast<const __nv_bfloat16*>(p.dt);
  const ChannelConsts<N, K> k(p, c);
  float win[K - 1];
  float* ws = cs.win + (int64_t)g * (K - 1) * p.di + c;
  if (WITH_Y) {
#pragma unroll
    for (int j = 0; j < K - 1; ++j) win[j] = ws[(int64_t)j * p.di];
  } else {
    if (ch.w) {  // the sequence's first chunk continues the slot's saved window
      const __nv_bfloat16* cst = static_cast<const __nv_bfloat16*>(p.conv_state) + (int64_t)slot * (K - 1) * p.di + c;
#pragma unroll
      for (int j = 0; j < K - 1; ++j) win[j] = __bfloat162float(cst[(int64_t)j * p.di]);
    } else {  // the K-1 rows before the chunk (same sequence: chunks after the first start >= kM2Chunk rows in)
#pragma unroll
      for (int j = 0; j < K - 1; ++j) win[j] = __bfloat162float(proj[(int64_t)(ch.y - (K - 1) + j) * p.ld_proj + k.xcol]);
    }
#pragma unroll
    for (int j = 0; j < K - 1; ++j) ws[(int64_t)j * p.di] = win[j];
  }
  float h[N];
  float* hs = cs.states + (int64_t)g * p.di * N + (int64_t)c * 4;
  if (WITH_Y) {
#pragma unroll
    for (int n = 0; n < N; n += 4) {
      const float4 v = *reinterpret_cast<const float4*>(hs + (int64_t)(n / 4) * p.di * 4);
      h[n] = v.x; h[n + 1] = v.y; h[n + 2] = v.z; h[n + 3] = v.w;
    }
  } else {
#pragma unroll
    for (int n = 0; n < N; ++n) h[n] = 0.f;
  }
  float dsum = 0.f;
  for (int t = ch.y; t < ch.z; ++t) {
    const __nv_bfloat16* row = proj + (int64_t)t * p.ld_proj;
    const float xt = __bfloat162float(row[k.xcol]);
    float acc = k.cb;
#pragma unroll
    for (int j = 0; j < K - 1; ++j) acc = fmaf(k.w[j], win[j], acc);
    acc = fmaf(k.w[K - 1], xt, acc);
#pragma unroll
    for (int j = 0; j < K - 2; ++j) win[j] = win[j + 1];
    win[K - 2] = xt;
    const float xc = silu(acc);
    const float d = softplus20(__bfloat162float(dtp[(int64_t)t * p.ld_dt + c]) + k.bias);
    const float dx = d * xc;
    dsum += d;
    float out = 0.f;
#pragma unroll
    for (int n = 0; n < N; ++n) {
      h[n] = fmaf(exp2f(d * k.A[n]), h[n], dx * __bfloat162float(row[k.bcol + n]));
      if (WITH_Y) out = fmaf(__bfloat162float(row[k.ccol + n]), h[n], out);
    }
    if (WITH_Y) y[(int64_t)t * p.di + c] = __float2bfloat16(fmaf(k.Dc, xc, out) * silu(__bfloat162float(row[c])));
  }
  if (WITH_Y) {
    if (ch.z == p.cu_seqlens[ch.x + 1]) {  // the sequence's last chunk: its final conv window
      __nv_bfloat16* cst = static_cast<__nv_bfloat16*>(p.conv_state) + (int64_t)slot * (K - 1) * p.di + c;
#pragma unroll
      for (int j = 0; j < K - 1; ++j) cst[(int64_t)j * p.di] = __float2bfloat16(win[j]);
    }
  } else {
#pragma unroll
    for (int n = 0; n < N; n += 4)
      *reinterpret_cast<float4*>(hs + (int64_t)(n / 4) * p.di * 4) = make_float4(h[n], h[n + 1], h[n + 2], h[n + 3]);
    cs.dsum[(int64_t)g * p.di + c] = dsum;
  }
}

// Pass 2: one thread per (sequence, channel, group of 4 states) carries the state across the sequence's chunks,
// replacing each chunk's local end state with the state entering it, and stores the final state in the slot.
template <int N>
__global__ void __launch_bounds__(kThreads) m2_chunk_carry_kernel(M2Params p, ChunkScratch cs) {
  const int tid = blockIdx.x * kThreads + threadIdx.x;
  const int s = blockIdx.y;
  if (tid >= p.di * (N / 4)) return;
  const int slot = p.slots[s];
  if (slot < 0) return;
  const int j = tid / p.di, c = tid % p.di;  // consecutive threads: consecutive channels of one float4 group
  const float4 a = *reinterpret_cast<const float4*>(p.A2 + (int64_t)c * N + 4 * j);
  float4* hslot = reinterpret_cast<float4*>(p.ssm_state + (int64_t)slot * p.di * N) + (int64_t)j * p.di + c;
  float4 H = *hslot;
  const int g0 = cs.seq_first[s], g1 = cs.seq_first[s + 1];
  for (int g = g0; g < g1; ++g) {
    float4* loc = reinterpret_cast<float4*>(cs.states + (int64_t)g * p.di * N) + (int64_t)j * p.di + c;
    const float4 l = *loc;
    const float sd = cs.dsum[(int64_t)g * p.di + c];
    *loc = H;
    H.x = fmaf(exp2f(sd * a.x), H.x, l.x);
    H.y = fmaf(exp2f(sd * a.y), H.y, l.y);
    H.z = fmaf(exp2f(sd * a.z), H.z, l.z);
    H.w = fmaf(exp2f(sd * a.w), H.w, l.w);
  }
  *hslot = H;
}

int g_prefill_variant = 0;  // 0: automatic (chunked when scratch is given and the sequential grid is small), 1: sequential, 2: chunked

template <int N>
cudaError_t launch_chunked(const M2Params& p, cudaStream_t stream) {
  constexpr int K = 4;
  const int mc = max_chunks(p.T, p.nseq);
  const ChunkScratch cs = carve(p.scratch, p.T, p.nseq, p.di, N, K);
  m2_chunk_table_kernel<<<1, 32, 0, stream>>>(p.cu_seqlens, p.nseq, mc, cs);
  const dim3 grid((p.di + kThreads - 1) / kThreads, mc);
  m2_chunk_scan_kernel<N, K, false><<<grid, kThreads, 0, stream>>>(p, cs);
  const dim3 cgrid((p.di * (N / 4) + kThreads - 1) / kThreads, p.nseq);
  m2_chunk_carry_kernel<N><<<cgrid, kThreads, 0, stream>>>(p, cs);
  m2_chunk_scan_kernel<N, K, true><<<grid, kThreads, 0, stream>>>(p, cs);
  return cudaGetLastError();
}

// One row's update of this thread's share of a channel (B/C values read from the row here, after the state
// loads were issued); returns y (valid in every lane of the channel).
template <int NPT, int TPC, int K>
__device__ __forceinline__ float decode_row(const __nv_bfloat16* row, int bcol, int ccol, float xt, float z, float dtv,
                                            const float (&w)[K], float cb, float bias, float Dc, const float (&A)[NPT],
                                            float (&win)[K - 1], float (&h)[NPT]) {
  float acc = cb;
#pragma unroll
  for (int k = 0; k < K - 1; ++k) acc = fmaf(w[k], win[k], acc);
  acc = fmaf(w[K - 1], xt, acc);
#pragma unroll
  for (int k = 0; k < K - 2; ++k) win[k] = win[k + 1];
  win[K - 2] = xt;
  const float xc = silu(acc);
  const float d = softplus20(dtv + bias);
  const float dx = d * xc;
  float out = 0.f;
#pragma unroll
  for (int n = 0; n < NPT; ++n) {
    const float bn = __bfloat162float(row[bcol + n]);
    const float cn = __bfloat162float(row[ccol + n]);
    h[n] = fmaf(exp2f(d * A[n]), h[n], dx * bn);
    out = fmaf(cn, h[n], out);
  }
#pragma unroll
  for (int off = 1; off < TPC; off <<= 1) out += __shfl_xor_sync(0xffffffffu, out, off);
  return fmaf(Dc, xc, out) * silu(z);
}

constexpr int kDecThreads = 128;
// CTAs per SM the register budget aims at (N <= 16; larger N would spill): 64 registers, 8 x 128 threads (TPC 1
// at B=32, di 4096 is one wave of 1,024 CTAs on 132 SMs, every state load in flight at once).
template <int N>
constexpr int dec_min_blocks() { return N > 16 ? 1 : 8; }

template <int N, int TPC>
__global__ void __launch_bounds__(kDecThreads, (dec_min_blocks<N>())) m2_decode_kernel(M2Params p) {
  constexpr int K = 4, NPT = N / TPC, CPB = kDecThreads / TPC;
  static_assert(NPT % 4 == 0, "each thread owns whole float4s of the state");
  pdl_trigger();
  pdl_wait();  // pdl.cuh: nothing before this reads or writes what earlier kernels touch
  const int s = blockIdx.y, q = threadIdx.x % TPC;
  const int c0 = blockIdx.x * CPB + threadIdx.x / TPC;
  const bool valid = c0 < p.di;
  const int c = valid ? c0 : p.di - 1;  // out-of-range lanes compute on a real channel (shuffles need them)
  // Round trip 1: everything that does not depend on the slot.
  const int slot = p.slots[s];
  const int beg = p.cu_seqlens[s], end = p.cu_seqlens[s + 1];
  const __nv_bfloat16* proj = static_cast<const __nv_bfloat16*>(p.proj);
  const __nv_bfloat16* dtp = static_cast<const __nv_bfloat16*>(p.dt);
  __nv_bfloat16* y = static_cast<__nv_bfloat16*>(p.y);
  const int r = p.di / p.dxb;
  const int xb = (c / (N * r)) * N;
  const int xcol = p.di + xb + c % N;
  const int bcol = p.di + p.dxb + xb + q * NPT;
  const int ccol = p.di + 2 * p.dxb + (c / N) * N + q * NPT;
  float w[K];
#pragma unroll
  for (int k = 0; k < K; ++k) w[k] = p.conv_w[(int64_t)c * K + k];
  const float cb = p.conv_b ? p.conv_b[c] : 0.f;
  const float bias = p.dt_bias2[c];
  const float Dc = p.D[c];
  float A[NPT];
#pragma unroll
  for (int n = 0; n < NPT; n += 4) {
    const float4 a = *reinterpret_cast<const float4*>(p.A2 + (int64_t)c * N + q * NPT + n);
    A[n] = a.x; A[n + 1] = a.y; A[n + 2] = a.z; A[n + 3] = a.w;
  }
  const __nv_bfloat16* row = proj + (int64_t)s * p.ld_proj;  // speculative: decode row s
  const float xt = __bfloat162float(row[xcol]);
  const float z = __bfloat162float(row[c]);
  const float dtv = __bfloat162float(dtp[(int64_t)s * p.ld_dt + c]);
  if (slot < 0) {
    if (valid && q == 0)
      for (int t = beg; t < end; ++t) y[(int64_t)t * p.di + c] = __float2bfloat16(0.f);
    return;
  }
  // Round trip 2: the state stream (read once, written once: evict-first loads and stores).
  float* hs = p.ssm_state + (int64_t)slot * p.di * N + (int64_t)c * 4;
  float h[NPT];
#pragma unroll
  for (int j = 0; j < NPT / 4; ++j) {
    const float4 v = __ldcs(reinterpret_cast<const float4*>(hs + (int64_t)(q * NPT / 4 + j) * p.di * 4));
    h[4 * j] = v.x; h[4 * j + 1] = v.y; h[4 * j + 2] = v.z; h[4 * j + 3] = v.w;
  }
  __nv_bfloat16* cs = static_cast<__nv_bfloat16*>(p.conv_state) + (int64_t)slot * (K - 1) * p.di + c;
  float win[K - 1];
#pragma unroll
  for (int k = 0; k < K - 1; ++k) win[k] = __bfloat162float(cs[(int64_t)k * p.di]);
  if (beg == s && end == s + 1) {
    const float out = decode_row<NPT, TPC, K>(row, bcol, ccol, xt, z, dtv, w, cb, bias, Dc, A, win, h);
    if (valid && q == 0) y[(int64_t)s * p.di + c] = __float2bfloat16(out);
  } else {
    for (int t = beg; t < end; ++t) {  // uniform per CTA (one sequence per blockIdx.y)
      const __nv_bfloat16* rt = proj + (int64_t)t * p.ld_proj;
      const float out = decode_row<NPT, TPC, K>(rt, bcol, ccol, __bfloat162float(rt[xcol]), __bfloat162float(rt[c]),
                                                __bfloat162float(dtp[(int64_t)t * p.ld_dt + c]), w, cb, bias, Dc, A,
                                                win, h);
      if (valid && q == 0) y[(int64_t)t * p.di + c] = __float2bfloat16(out);
    }
  }
  if (!valid) return;
#pragma unroll
  for (int j = 0; j < NPT / 4; ++j)
    __stcs(reinterpret_cast<float4*>(hs + (int64_t)(q * NPT / 4 + j) * p.di * 4),
           make_float4(h[4 * j], h[4 * j + 1], h[4 * j + 2], h[4 * j + 3]));
  if (q == 0) {
#pragma unroll
    for (int k = 0; k < K - 1; ++k) cs[(int64_t)k * p.di] = __float2bfloat16(win[k]);
  }
}

int g_decode_tpc = 0;  // 0: automatic; -1: the prefill kernel for decode too; 1/2: threads per channel

template <int N, int TPC>
cudaError_t launch_decode(const M2Params& p, cudaStream_t stream) {
  constexpr int T = (N / TPC) % 4 == 0 ? TPC : (N >= 8 ? N / 4 : 1);  // each thread owns whole float4s
  dim3 grid((p.di + kDecThreads / T - 1) / (kDecThreads / T), p.nseq);
  return launch_pdl(m2_decode_kernel<N, T>, grid, dim3(kDecThreads), 0, stream, p);
}

template <int N>
cudaError_t launch(const M2Params& p, cudaStream_t stream) {
  if (p.K != 4) return cudaErrorInvalidValue;
  if (p.T == p.nseq && g_decode_tpc >= 0) {
    // Up to 8 sequences: 2 threads per channel spread the few sequences over more SMs; beyond, one thread per
    // channel (measured crossover between B=8 and B=32, see the top of the file).
    const int tpc = g_decode_tpc ? g_decode_tpc : (p.nseq <= 8 ? 2 : 1);
    return tpc == 2 ? launch_decode<N, 2>(p, stream) : launch_decode<N, 1>(p, stream);
  }
  // Chunked unless the sequential grid is already large: on the H200 (2026-12-03) the chunked scan was 10x
  // faster for one 2k sequence (0.29 vs 2.90 ms), 1.8x for 8 x 2k, and 4% slower for 32 x 512 (1,024 CTAs).
  const bool many_seqs = int64_t(p.nseq) * ((p.di + kThreads - 1) / kThreads) >= 1024;
  if (p.scratch && p.T > 0 && (g_prefill_variant == 2 || (g_prefill_variant == 0 && !many_seqs)))
    return launch_chunked<N>(p, stream);
  dim3 grid((p.di + kThreads - 1) / kThreads, p.nseq);
  m2_kernel<N, 4><<<grid, kThreads, 0, stream>>>(p);
  return cudaGetLastError();
}

}  // namespace

void set_m2_decode_variant(int tpc) { g_decode_tpc = tpc; }
void set_m2_prefill_variant(int variant) { g_prefill_variant = variant; }

size_t m2_prefill_scratch_bytes(int T, int nseq, int di, int N, int K) {
  const size_t mc = size_t(max_chunks(T, nseq));
  return align256(mc * sizeof(int4)) + align256(size_t(nseq + 1) * sizeof(int)) +
         align256(mc * size_t(di) * size_t(N) * sizeof(float)) + align256(mc * size_t(di) * sizeof(float)) +
         mc * size_t(K - 1) * size_t(di) * sizeof(float);
}

cudaError_t m2_scan(const M2Params& p, cudaStream_t stream) {
  if (p.nseq == 0) return cudaSuccess;
  if (p.dxb <= 0 || p.di % p.dxb != 0 || p.dxb % p.N != 0) return cudaErrorInvalidValue;
  switch (p.N) {
    case 4: return launch<4>(p, stream);
    case 8: return launch<8>(p, stream);
    case 16: return launch<16>(p, stream);
    case 32: return launch<32>(p, stream);
    default: return cudaErrorInvalidValue;
  }
}

}  // namespace hb::cuda
