// Per-row GPU sampling (see hb_cuda.h): the semantics of hb::models::Sampler (models/sampler.cpp) on the
// device, so a decode step stays one CUDA graph and the host reads only the sampled ids.
//
// Floor: B*V*sizeof(logit) bytes read once (B*V*2 for bf16; 256 KB per row at V = 131,072), ~10 FLOP per
// logit. One CTA per row. Passes over the row after the first re-read it from L2 (a 256 KB row does not fit
// in shared memory). Which passes a row pays for depends on its filters:
//   greedy                         1 pass: argmax (+ log-sum-exp when logprob is asked for)
//   temperature only               1 pass: Gumbel-max over l/T + G(seed, step, index) in the same pass
//   top-k (k <= 512), top-p, min-p 2 passes: max, sum and the per-thread maxima; then the candidates
//                                  {l >= c} are compacted into shared memory, where c is a cheap bound
//                                  that provably keeps the whole filtered set (the K-th largest per-thread
//                                  maximum for top-k; for top-p the first per-thread maximum where their
//                                  mass reaches top_p*Z; for min-p its logit threshold). The <= 1024
//                                  candidates are sorted (value desc, index asc, as the CPU sorts), and
//                                  the CPU rules run there exactly: top-k, min-p, top-p over a prefix scan.
//   anything else (flat rows whose kept set has > 1024 tokens, top-k > 512 on large V): the general path.
//                                  Each filter is a prefix of the sorted order, i.e. a threshold on the
//                                  logit plus, inside a tie group, a cut on the index; both are found by
//                                  bisection with block-wide (count, mass) reductions (16 passes for bf16
//                                  keys, 32 for fp32, ~18 for an index cut), then one Gumbel-max pass over
//                                  the kept set. Slow but exact; only flat distributions get there.
// The draw is Gumbel-max everywhere (exact categorical over the kept set renormalised), with a counter-based
// hash of (seed[row], *step, token index): the same token gets the same noise on every path.
#include <cuda_bf16.h>

#include <cfloat>
#include <climits>
#include <cstdint>

#include "kernels/cuda/hb_cuda.h"

namespace hb::cuda {
namespace {

constexpr int kThreads = 512;
constexpr int kWarps = kThreads / 32;
constexpr int kCap = 1024;      // candidates sorted in shared memory (>= kThreads: the thread maxima use it)
constexpr int kMaxV = 262144;   // the ban bitmap covers this many ids
constexpr float kGumbelMax = 17.5f;  // > the largest noise gumbel() can return (25 ln 2 = 17.33)

bool g_force_bisection = false;

__device__ __forceinline__ uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

__device__ __forceinline__ uint32_t hash32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x21f0aaadu;
  x ^= x >> 15;
  x *= 0x735a2d97u;
  x ^= x >> 15;
  return x;
}

// Standard Gumbel noise from 32 random bits. u is uniform over the 2^24 odd multiples of 2^-25 in (0,1),
// built so that it is exact in float: the top bit picks u = w or u = 1 - w with w < 1/2 exact, and
// E = -log(u) is computed from w (a series near u = 1). A plain (h + 0.5) / 2^24 rounds to 1.0 for the
// largest h, which gives E = 0 and G = +inf: that token would win whatever its logit.
__device__ __forceinline__ float gumbel(uint32_t h) {
  const float w = float(((h & 0x7fffffu) << 1) | 1u) * (1.0f / 33554432.0f);
  const bool small_u = h >> 31;
  float e = -__logf(small_u ? w : 1.f - w);                                    // one log, no divergence
  if (!small_u && w < 0.015625f) e = w * (1.f + w * (0.5f + w * (1.f / 3.f)));  // -log(1 - w), series
  return -__logf(e);
}

// Order-preserving map float -> uint32 (larger float, larger key) and back.
__device__ __forceinline__ uint32_t okey(float x) {
  const uint32_t u = __float_as_uint(x);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
__device__ __forceinline__ float ofloat(uint32_t k) { return __uint_as_float((k & 0x80000000u) ? (k & 0x7fffffffu) : ~k); }

__device__ __forceinline__ float to_f(float x) { return x; }
__device__ __forceinline__ float to_f(__nv_bfloat16 x) { return __bfloat162float(x); }

template <typename LT>
__device__ __forceinline__ void unpack(const uint4& r, float* x);
template <>
__device__ __forceinline__ void unpack<float>(const uint4& r, float* x) {
  x[0] = __uint_as_float(r.x);
  x[1] = __uint_as_float(r.y);
  x[2] = __uint_as_float(r.z);
  x[3] = __uint_as_float(r.w);
}
template <>
__device__ __forceinline__ void unpack<__nv_bfloat16>(const uint4& r, float* x) {
  const uint32_t w[4] = {r.x, r.y, r.z, r.w};
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    x[2 * j] = __uint_as_float(w[j] << 16);
    x[2 * j + 1] = __uint_as_float(w[j] & 0xffff0000u);
  }
}

// Calls f(i, x) for i in [0, n) (each thread its own elements, increasing i), x = the logit, or -inf when
// banned or not a number. 16-byte loads, 4 in flight per thread, when the row is aligned.
template <typename LT, typename F>
__device__ __forceinline__ void for_row(const LT* row, int n, const uint32_t* bits, F&& f) {
  constexpr int VEC = 16 / sizeof(LT);
  auto clean = [&](int i, float x) {
    if (bits && ((bits[i >> 5] >> (i & 31)) & 1u)) x = -INFINITY;
    f(i, x > -INFINITY ? x : -INFINITY);
  };
  int start = 0;
  if ((reinterpret_cast<uintptr_t>(row) & 15) == 0) {
    const int nv = n / VEC;
    const uint4* r4 = reinterpret_cast<const uint4*>(row);
    int c = threadIdx.x;
    for (; c + 3 * kThreads < nv; c += 4 * kThreads) {
      uint4 r[4];
#pragma unroll
      for (int u = 0; u < 4; ++u) r[u] = r4[c + u * kThreads];
#pragma unroll
      for (int u = 0; u < 4; ++u) {
        float x[VEC];
        unpack<LT>(r[u], x);
#pragma unroll
        for (int j = 0; j < VEC; ++j) clean((c + u * kThreads) * VEC + j, x[j]);
      }
    }
    for (; c < nv; c += kThreads) {
      float x[VEC];
      unpack<LT>(r4[c], x);
#pragma unroll
      for (int j = 0; j < VEC; ++j) clean(c * VEC + j, x[j]);
    }
    start = nv * VEC;
  }
  for (int i = start + threadIdx.x; i < n; i += kThreads) clean(i, to_f(row[i]));
}

// ---- block-wide reductions (every thread gets the result) ----
__device__ __forceinline__ bool better(float v, int i, float bv, int bi) { return v > bv || (v == bv && i < bi); }

__device__ void block_argmax(float& v, int& i, float* sf, int* si) {
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) {
    const float ov = __shfl_xor_sync(0xffffffffu, v, off);
    const int oi = __shfl_xor_sync(0xffffffffu, i, off);
    if (better(ov, oi, v, i)) {
      v = ov;
      i = oi;
    }
  }
  if ((threadIdx.x & 31) == 0) {
    sf[threadIdx.x >> 5] = v;
    si[threadIdx.x >> 5] = i;
  }
  __syncthreads();
  v = sf[0];
  i = si[0];
  for (int w = 1; w < kWarps; ++w) {
    if (better(sf[w], si[w], v, i)) {
      v = sf[w];
      i = si[w];
    }
  }
  __syncthreads();
}

__device__ void block_sum2(float& s, int& c, float* sf, int* si) {
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) {
    s += __shfl_xor_sync(0xffffffffu, s, off);
    c += __shfl_xor_sync(0xffffffffu, c, off);
  }
  if ((threadIdx.x & 31) == 0) {
    sf[threadIdx.x >> 5] = s;
    si[threadIdx.x >> 5] = c;
  }
  __syncthreads();
  s = 0.f;
  c = 0;
  for (int w = 0; w < kWarps; ++w) {
    s += sf[w];
    c += si[w];
  }
  __syncthreads();
}

__device__ int block_min(int v, int* si) {
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) v = min(v, __shfl_xor_sync(0xffffffffu, v, off));
  if ((threadIdx.x & 31) == 0) si[threadIdx.x >> 5] = v;
  __syncthreads();
  v = si[0];
  for (int w = 1; w < kWarps; ++w) v = min(v, si[w]);
  __syncthreads();
  return v;
}

// Inclusive prefix sum of a[0, n) in shared memory (n <= kCap); each thread scans a contiguous chunk.
__device__ void block_scan(float* a, int n, float* sf) {
  const int per = (n + kThreads - 1) / kThreads;
  const int beg = min(n, int(threadIdx.x) * per), end = min(n, beg + per);
  float s = 0.f;
  for (int i = beg; i < end; ++i) s += a[i];
  float incl = s;
  const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
#pragma unroll
  for (int off = 1; off < 32; off <<= 1) {
    const float o = __shfl_up_sync(0xffffffffu, incl, off);
    if (lane >= off) incl += o;
  }
  if (lane == 31) sf[w] = incl;
  __syncthreads();
  float run = incl - s;
  for (int k = 0; k < w; ++k) run += sf[k];
  for (int i = beg; i < end; ++i) {
    run += a[i];
    a[i] = run;
  }
  __syncthreads();
}

// Sorts (v, ix)[0, n2) best first: larger value, then smaller index (the CPU sampler's order). n2: power of 2.
__device__ void bitonic_sort(float* v, int* ix, int n2) {
  for (int k = 2; k <= n2; k <<= 1) {
    for (int j = k >> 1; j > 0; j >>= 1) {
      for (int t = threadIdx.x; t < n2; t += kThreads) {
        const int q = t ^ j;
        if (q > t) {
          const float a = v[t], b = v[q];
          const int ia = ix[t], ib = ix[q];
          const bool q_first = better(b, ib, a, ia);
          if (((t & k) == 0) == q_first) {
            v[t] = b;
            v[q] = a;
            ix[t] = ib;
            ix[q] = ia;
          }
        }
      }
      __syncthreads();
    }
  }
}

template <typename LT>
__global__ void __launch_bounds__(kThreads) sample_kernel(SampleParams p, int force_general) {
  __shared__ float cv[kCap];    // candidate logits (first: the per-thread maxima)
  __shared__ int ci[kCap];      // candidate ids
  __shared__ float cum[kCap];   // prefix masses
  __shared__ uint32_t ban_bits[kMaxV / 32];
  __shared__ float rf[kWarps];
  __shared__ int ri[kWarps];
  __shared__ int ncand;

  const int b = blockIdx.x, tid = threadIdx.x, V = p.V;
  const LT* row = static_cast<const LT*>(p.logits) + int64_t(b) * p.ld;

  // ---- this row's parameters ----
  const float T = p.temperature ? p.temperature[b] : p.temperature_all;
  const bool greedy = !(T > 0.f);
  int K = p.top_k ? p.top_k[b] : 0;
  if (K < 0 || K >= V) K = 0;  // off
  const float top_p = p.top_p ? p.top_p[b] : 1.f;
  const float min_p = p.min_p ? p.min_p[b] : 0.f;
  const bool use_p = top_p < 1.f, use_m = min_p > 0.f;
  const bool filtered = !greedy && (K > 0 || use_p || use_m);
  const bool plain = !greedy && !filtered;
  const float invT = greedy ? 1.f : 1.f / T;
  const uint64_t seed = p.seed ? uint64_t(p.seed[b]) : mix64(p.seed_all + 0x632be59bd9b4e019ull * uint64_t(b + 1));
  const uint64_t step = p.step ? uint64_t(*p.step) : 0;
  const uint64_t rk = mix64(seed ^ mix64(step * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull));
  const uint32_t k0 = uint32_t(rk), k1 = uint32_t(rk >> 32);
  auto noise = [&](int i) { return gumbel(hash32(hash32(uint32_t(i) + k0) ^ k1)); };

  // ---- bans -> bitmap ----
  const uint32_t* bits = nullptr;
  if (p.n_banned > 0) {
    const int words = (V + 31) >> 5;
    for (int w = tid; w < words; w += kThreads) ban_bits[w] = 0u;
    __syncthreads();
    const int32_t* bl = p.banned + int64_t(b) * p.n_banned;
    for (int j = tid; j < p.n_banned; j += kThreads) {
      const int id = bl[j];
      if (id >= 0 && id < V) atomicOr(&ban_bits[id >> 5], 1u << (id & 31));
    }
    __syncthreads();
    bits = ban_bits;
  }

  // ---- pass 1: max / argmax, sum exp(l - max) (raw, for logprob) and exp((l - max)/T), finite count,
  // and for temperature-only rows the Gumbel-max draw itself ----
  const bool need_lse = p.logprob != nullptr, need_zt = filtered;
  float m = -INFINITY, s1 = 0.f, sT = 0.f, gs = -INFINITY;
  int mi = INT_MAX, gi = INT_MAX, nf = 0;
  for_row(row, V, bits, [&](int i, float x) {
    if (x > m) {
      if (need_lse) s1 = s1 * __expf(m - x) + 1.f;
      if (need_zt) sT = sT * __expf((m - x) * invT) + 1.f;
      m = x;
      mi = i;
    } else if (x > -INFINITY) {
      if (need_lse) s1 += __expf(x - m);
      if (need_zt) sT += __expf((x - m) * invT);
    }
    nf += x > -INFINITY;
    // Noise is at most kGumbelMax: skip the hash and logs for tokens that cannot beat this thread's best.
    if (plain && x * invT + kGumbelMax > gs) {
      const float sc = x * invT + noise(i);
      if (sc > gs) {
        gs = sc;
        gi = i;
      }
    }
  });
  float M = m;
  int am = mi;
  block_argmax(M, am, rf, ri);
  const float thread_max = m;
  float S1 = m > -INFINITY ? s1 * __expf(m - M) : 0.f;
  float ZT = m > -INFINITY ? sT * __expf((m - M) * invT) : 0.f;
  int F = nf;
  block_sum2(S1, F, rf, ri);
  if (need_zt) {
    int dummy = 0;
    block_sum2(ZT, dummy, rf, ri);
  }

  int tok = am;
  if (plain) {
    block_argmax(gs, gi, rf, ri);
    tok = gi;
  } else if (filtered && F > 0) {
    bool done = false;
    // ---- compact path: candidates {l >= c} in shared memory ----
    if (!force_general) {
      float c = -INFINITY;
      const bool sortK = K > 0 && K <= kThreads, sortP = K == 0 && use_p;
      if (sortK || sortP) {
        cv[tid] = thread_max;
        ci[tid] = tid;
        __syncthreads();
        bitonic_sort(cv, ci, kThreads);
        if (sortK) {
          c = cv[K - 1];  // K threads hold a logit >= c, so {l >= c} contains the top K
        } else {
          cum[tid] = cv[tid] > -INFINITY ? __expf((cv[tid] - M) * invT) : 0.f;
          __syncthreads();
          block_scan(cum, kThreads, rf);
          const float target = top_p * ZT * 1.0001f;  // margin for rounding
          int j = kThreads;
          if (cum[tid] >= target) j = tid;
          j = block_min(j, ri);
          if (j < kThreads) c = cv[j];  // {l >= c} has at least the target mass
        }
        __syncthreads();
      }
      if (K == 0 && use_m) {
        // p >= min_p * p_max <=> l >= M + T ln(min_p); a little lower for rounding (exact test below).
        const float cm = M + T * __logf(min_p);
        c = fmaxf(c, cm - 1e-4f * (fabsf(cm) + fabsf(M) + 1.f));
      }
      const bool all = !(c > -INFINITY);
      if (!all || F <= kCap) {
        if (tid == 0) ncand = 0;
        __syncthreads();
        for_row(row, V, bits, [&](int i, float x) {
          if (x > -INFINITY && x >= c) {
            const int q = atomicAdd(&ncand, 1);
            if (q < kCap) {
              cv[q] = x;
              ci[q] = i;
            }
          }
        });
        __syncthreads();
        const int n = ncand;
        if (n <= kCap) {
          int n2 = 1;
          while (n2 < n) n2 <<= 1;
          for (int i = n + tid; i < n2; i += kThreads) {
            cv[i] = -INFINITY;
            ci[i] = INT_MAX;
          }
          __syncthreads();
          bitonic_sort(cv, ci, n2);
          for (int i = tid; i < n; i += kThreads) cum[i] = __expf((cv[i] - M) * invT);
          __syncthreads();
          block_scan(cum, n, rf);
          // The CPU rules on the sorted prefix: keep the top K; Z = their mass (or every token's).
          const int Kk = K > 0 ? min(K, n) : n;
          const float Z = K > 0 ? cum[Kk - 1] : (all ? cum[n - 1] : ZT);
          int keep = Kk;
          if (use_m) {
            int j = keep;
            for (int i = tid; i < keep; i += kThreads) {
              if (__expf((cv[i] - M) * invT) < min_p) j = min(j, i);
            }
            keep = max(1, block_min(j, ri));
          }
          if (use_p) {
            int j = keep;
            for (int i = tid; i < keep; i += kThreads) {
              if (cum[i] >= top_p * Z) j = min(j, i);
            }
            j = block_min(j, ri);
            if (j < keep) keep = j + 1;
          }
          float best = -INFINITY;
          int bp = INT_MAX;
          for (int i = tid; i < keep; i += kThreads) {
            const float sc = cv[i] * invT + noise(ci[i]);
            if (sc > best) {
              best = sc;
              bp = i;
            }
          }
          block_argmax(best, bp, rf, ri);
          tok = ci[bp];
          done = true;
        }
        __syncthreads();
      }
    }

    // ---- general path: every filter is a prefix of the sorted order = (logit key threshold t, and among
    // the tokens with key == t those with index < icut); thresholds by bisection ----
    if (!done) {
      constexpr int shift = sizeof(LT) == 2 ? 16 : 0;  // bf16 logits: only the top 16 key bits vary
      auto keyof = [&](float x) { return okey(x) >> shift; };
      auto key_value = [&](uint32_t t) {
        return ofloat(shift ? ((t << 16) | ((t & 0x8000u) ? 0u : 0xffffu)) : t);
      };
      auto mass = [&](float x) { return __expf((x - M) * invT); };
      // Largest t with count(key >= t) >= target (by_mass: mass(key >= t) >= target), and the count at t,
      // the count and mass above t.
      struct Sel {
        uint32_t t;
        int cnt_ge, cnt_gt;
        float mass_gt;
      };
      auto select = [&](bool by_mass, int target_n, float target_m) {
        int64_t lo = 0, hi = int64_t(keyof(M)) + 1;
        Sel s{0u, F, 0, 0.f};
        while (hi - lo > 1) {
          const int64_t mid = (lo + hi) >> 1;
          int c = 0;
          float sm = 0.f;
          for_row(row, V, bits, [&](int, float x) {
            if (x > -INFINITY && keyof(x) >= uint32_t(mid)) {
              ++c;
              if (by_mass) sm += mass(x);
            }
          });
          block_sum2(sm, c, rf, ri);
          if (by_mass ? sm >= target_m : c >= target_n) {
            lo = mid;
            s.cnt_ge = c;
          } else {
            hi = mid;
            s.cnt_gt = c;
            s.mass_gt = sm;
          }
        }
        s.t = uint32_t(lo);
        return s;
      };
      // Smallest icut with #{key == t, index < icut} >= need (1 <= need < #{key == t}).
      auto index_cut = [&](uint32_t t, int need) {
        int lo = 0, hi = V;
        while (hi - lo > 1) {
          const int mid = (lo + hi) >> 1;
          int c = 0;
          float unused = 0.f;
          for_row(row, mid, bits, [&](int, float x) { c += (x > -INFINITY && keyof(x) == t); });
          block_sum2(unused, c, rf, ri);
          if (c >= need) hi = mid;
          else lo = mid;
        }
        return hi;
      };
      bool onk = false, onp = false;
      uint32_t tk = 0, tp = 0;
      int ick = V, icp = V;
      float Zk = ZT;
      if (K > 0 && K < F) {
        const Sel s = select(false, K, 0.f);
        const int eq = s.cnt_ge - s.cnt_gt, need = K - s.cnt_gt;
        onk = true;
        tk = s.t;
        if (need < eq) ick = index_cut(s.t, need);
        // Mass of the top K. The bisection measured mass only when it counted by mass; recount here.
        int c = 0;
        float sm = 0.f;
        for_row(row, V, bits, [&](int, float x) {
          if (x > -INFINITY && keyof(x) > tk) sm += mass(x);
        });
        block_sum2(sm, c, rf, ri);
        Zk = sm + float(need) * mass(key_value(tk));
      }
      if (use_p) {
        const float target = top_p * Zk;
        const Sel s = select(true, 0, target);
        const int eq = s.cnt_ge - s.cnt_gt;
        if (eq > 0) {
          const float pt = mass(key_value(s.t));
          int need = pt > 0.f ? int(fminf(ceilf((target - s.mass_gt) / pt), float(eq))) : eq;
          need = max(1, min(need, eq));
          onp = true;
          tp = s.t;
          if (need < eq) icp = index_cut(s.t, need);
        }
      }
      float best = -INFINITY;
      int bi = INT_MAX;
      for_row(row, V, bits, [&](int i, float x) {
        if (!(x > -INFINITY)) return;
        const uint32_t k = keyof(x);
        if (onk && !(k > tk || (k == tk && i < ick))) return;
        if (onp && !(k > tp || (k == tp && i < icp))) return;
        if (use_m && mass(x) < min_p) return;
        const float sc = x * invT + noise(i);
        if (sc > best) {
          best = sc;
          bi = i;
        }
      });
      block_argmax(best, bi, rf, ri);
      tok = bi;
    }
  }

  if (tid == 0) {
    if (!(F > 0) || tok < 0 || tok >= V) tok = 0;  // every token banned: nothing to draw
    p.tokens[b] = tok;
    if (p.logprob) {
      // The reported logprob is of the raw distribution: pass 1 skipped the banned ids (EOS under
      // min_tokens/ignore_eos), so add them back into the log-sum-exp (a handful of ids, each once).
      float Mr = M, Sr = S1;
      if (bits) {
        const int32_t* bl = p.banned + int64_t(b) * p.n_banned;
        for (int j = 0; j < p.n_banned; ++j) {
          const int id = bl[j];
          bool seen = id < 0 || id >= V;
          for (int q = 0; q < j && !seen; ++q) seen = bl[q] == id;
          if (seen) continue;
          const float x = to_f(row[id]);
          if (!(x > -INFINITY)) continue;  // -inf or NaN: no mass
          if (x > Mr) {
            Sr = Sr * __expf(Mr - x) + 1.f;
            Mr = x;
          } else {
            Sr += __expf(x - Mr);
          }
        }
      }
      const float l = to_f(row[tok]);
      p.logprob[b] = F > 0 ? l - (Mr + __logf(Sr)) : -INFINITY;
    }
  }
}

}  // namespace

void set_sample_force_bisection(bool on) { g_force_bisection = on; }

cudaError_t sample(const SampleParams& p, cudaStream_t stream) {
  if (p.B == 0) return cudaSuccess;
  if (p.V <= 0 || p.V > kMaxV || p.n_banned < 0 || (p.n_banned > 0 && !p.banned)) return cudaErrorInvalidValue;
  if (p.logits_fp32) sample_kernel<float><<<p.B, kThreads, 0, stream>>>(p, g_force_bisection ? 1 : 0);
  else sample_kernel<__nv_bfloat16><<<p.B, kThreads, 0, stream>>>(p, g_force_bisection ? 1 : 0);
  return cudaGetLastError();
}

}  // namespace hb::cuda
