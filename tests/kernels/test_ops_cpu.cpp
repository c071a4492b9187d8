// The CPU reference ops against direct, slow transcriptions of their definitions (random inputs, fp64
// where it matters), and the decode-step variants against the prefill ones.
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/ops.h"

namespace hb::kernels {
namespace {

constexpr double kTol = 1e-5;

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

TEST(KernelsCpu, RmsNorm) {
  torch::manual_seed(1);
  auto x = torch::randn({5, 16}), w = torch::randn({16});
  auto xd = x.to(torch::kFloat64);
  auto ref = w.to(torch::kFloat64) * xd / torch::sqrt(xd.pow(2).mean(-1, true) + 1e-5);
  EXPECT_LT(max_diff(rms_norm(x, w, 1e-5), ref), kTol);
}

TEST(KernelsCpu, RopeRotateHalfAndRelativePositions) {
  torch::manual_seed(2);
  auto q = torch::randn({1, 1, 8}), k = torch::randn({1, 1, 8});
  auto pos = [](int64_t p) { return torch::tensor({p}, torch::kInt64); };
  // Element-wise definition at position 3, theta 10000.
  auto r = rope(q, pos(3), 10000.0);
  for (int i = 0; i < 4; ++i) {
    double f = 3.0 * std::pow(10000.0, -2.0 * i / 8.0);
    double a = q[0][0][i].item<double>(), b = q[0][0][i + 4].item<double>();
    EXPECT_NEAR(r[0][0][i].item<double>(), a * std::cos(f) - b * std::sin(f), 1e-5);
    EXPECT_NEAR(r[0][0][i + 4].item<double>(), b * std::cos(f) + a * std::sin(f), 1e-5);
  }
  // q.k depends only on the distance.
  double d1 = (rope(q, pos(5), 1e4) * rope(k, pos(2), 1e4)).sum().item<double>();
  double d2 = (rope(q, pos(13), 1e4) * rope(k, pos(10), 1e4)).sum().item<double>();
  EXPECT_NEAR(d1, d2, 1e-4);
}

TEST(KernelsCpu, GqaAttentionMatchesLoopsAndDecodeMatchesPrefill) {
  torch::manual_seed(3);
  const int64_t T = 6, nh = 4, nkv = 2, hd = 8;
  auto q = torch::randn({T, nh, hd}), k = torch::randn({T, nkv, hd}), v = torch::randn({T, nkv, hd});
  auto out = gqa_attention(q, k, v, 0);
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t h = 0; h < nh; ++h) {
      int64_t g = h / (nh / nkv);
      auto s = (k.narrow(0, 0, t + 1).select(1, g) * q[t][h]).sum(-1) / std::sqrt(double(hd));
      auto o = (torch::softmax(s, 0).unsqueeze(1) * v.narrow(0, 0, t + 1).select(1, g)).sum(0);
      EXPECT_LT(max_diff(out[t].narrow(0, h * hd, hd), o), kTol);
    }
    auto step = gqa_attention(q.narrow(0, t, 1), k, v, t);  // decode row t against the cache
    EXPECT_LT(max_diff(step[0], out[t]), kTol);
  }
}

// Sliding window as Mistral defines it: the query at position p sees keys p-W+1..p. Checked against a float64
// loop for every window from 1 (itself only) past the length (= full attention), for prefill, a chunk starting
// mid-sequence and decode rows.
TEST(KernelsCpu, GqaAttentionSlidingWindowMatchesFloat64Loops) {
  torch::manual_seed(5);
  const int64_t T = 9, nh = 4, nkv = 2, hd = 8;
  auto q = torch::randn({T, nh, hd}, torch::kFloat64), k = torch::randn({T, nkv, hd}, torch::kFloat64);
  auto v = torch::randn({T, nkv, hd}, torch::kFloat64);
  auto qf = q.to(torch::kFloat32), kf = k.to(torch::kFloat32), vf = v.to(torch::kFloat32);
  for (int64_t W : {1, 2, 3, 5, 9, 20}) {
    auto full = gqa_attention(qf, kf, vf, 0, W);
    auto chunk = gqa_attention(qf.narrow(0, 4, T - 4), kf, vf, 4, W);  // rows 4.. with 0..3 already cached
    for (int64_t t = 0; t < T; ++t) {
      const int64_t lo = std::max<int64_t>(0, t - W + 1);
      for (int64_t h = 0; h < nh; ++h) {
        int64_t g = h / (nh / nkv);
        auto keys = k.narrow(0, lo, t + 1 - lo).select(1, g);
        auto s = (keys * q[t][h]).sum(-1) / std::sqrt(double(hd));
        auto o = (torch::softmax(s, 0).unsqueeze(1) * v.narrow(0, lo, t + 1 - lo).select(1, g)).sum(0);
        EXPECT_LT(max_diff(full[t].narrow(0, h * hd, hd).to(torch::kFloat64), o), kTol) << "W=" << W << " t=" << t;
        if (t >= 4) {
          EXPECT_LT(max_diff(chunk[t - 4].narrow(0, h * hd, hd).to(torch::kFloat64), o), kTol);
        }
      }
      auto step = gqa_attention(qf.narrow(0, t, 1), kf, vf, t, W);
      EXPECT_LT(max_diff(step[0], full[t]), kTol);
    }
  }
  // A window shorter than the context must change the result (the test can tell the two apart).
  EXPECT_GT(max_diff(gqa_attention(qf, kf, vf, 0, 2), gqa_attention(qf, kf, vf, 0, 0)), 1e-3);
}

TEST(KernelsCpu, CausalConvDecodeStepsEqualPrefillAndChunks) {
  torch::manual_seed(4);
  const int64_t T = 7, C = 6, K = 4;
  auto x = torch::randn({T, C}), w = torch::randn({C, K}), b = torch::randn({C});
  auto st = torch::zeros({K - 1, C});
  auto full = causal_conv1d(x, st, w, b);
  // Definition: zero history, w[:, K-1] on the current input, SiLU.
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t c = 0; c < C; ++c) {
      double acc = b[c].item<double>();
      for (int64_t j = 0; j < K; ++j) {
        int64_t src = t - (K - 1) + j;
        if (src >= 0) acc += w[c][j].item<double>() * x[src][c].item<double>();
      }
      EXPECT_NEAR(full[t][c].item<double>(), acc / (1 + std::exp(-acc)), 1e-5);
    }
  }
  EXPECT_LT(max_diff(st, x.narrow(0, T - (K - 1), K - 1)), 0.0 + 1e-7);  // last K-1 inputs kept
  auto s2 = torch::zeros({K - 1, C});
  auto a = causal_conv1d(x.narrow(0, 0, 3), s2, w, b);
  for (int64_t t = 3; t < T; ++t) EXPECT_LT(max_diff(causal_conv1d_update(x[t], s2, w, b), full[t]), kTol);
  EXPECT_LT(max_diff(a, full.narrow(0, 0, 3)), kTol);
}

TEST(KernelsCpu, SelectiveScanMatchesRecurrenceAndStepsEqualPrefill) {
  torch::manual_seed(5);
  const int64_t T = 5, C = 8, N = 4, GB = 2, GC = 4;
  SelectiveScanArgs a;
  a.x = torch::randn({T, C});
  a.delta = kernels::softplus(torch::randn({T, C}));
  a.z = torch::randn({T, C});
  a.A = -torch::exp(torch::randn({C, N}));
  a.Bg = torch::randn({T, GB, N});
  a.Cg = torch::randn({T, GC, N});
  a.D = torch::randn({C});
  auto state = torch::zeros({C, N});
  auto y = selective_scan(a, state);
  // fp64 recurrence from the spec.
  auto s = torch::zeros({C, N}, torch::kFloat64);
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t c = 0; c < C; ++c) {
      auto d = a.delta[t][c].to(torch::kFloat64);
      auto bvec = a.Bg[t][c / (C / GB)].to(torch::kFloat64), cvec = a.Cg[t][c / (C / GC)].to(torch::kFloat64);
      s[c] = torch::exp(d * a.A[c].to(torch::kFloat64)) * s[c] + d * bvec * a.x[t][c].to(torch::kFloat64);
      auto yc = (cvec * s[c]).sum() + a.D[c].to(torch::kFloat64) * a.x[t][c].to(torch::kFloat64);
      auto zz = a.z[t][c].to(torch::kFloat64);
      EXPECT_NEAR(y[t][c].item<double>(), (yc * zz / (1 + torch::exp(-zz))).item<double>(), 1e-5);
    }
  }
  EXPECT_LT(max_diff(state, s), kTol);
  // Token-by-token from the saved state equals the prefill.
  auto st2 = torch::zeros({C, N});
  for (int64_t t = 0; t < T; ++t) {
    SelectiveScanArgs one{a.x.narrow(0, t, 1), a.delta.narrow(0, t, 1), a.z.narrow(0, t, 1), a.A,
                          a.Bg.narrow(0, t, 1), a.Cg.narrow(0, t, 1), a.D};
    EXPECT_LT(max_diff(selective_state_update(one, st2)[0], y[t]), kTol);
  }
  // bf16 state storage: computes in fp32, stores rounded.
  auto st3 = torch::zeros({C, N}, torch::kBFloat16);
  selective_scan(a, st3);
  EXPECT_LT(max_diff(st3, state), 0.05);
}

TEST(KernelsCpu, SoftplusThreshold) {
  auto v = torch::tensor({-30.0f, 0.0f, 19.0f, 25.0f});
  auto s = kernels::softplus(v);
  EXPECT_NEAR(s[1].item<double>(), std::log(2.0), 1e-6);
  EXPECT_EQ(s[3].item<float>(), 25.0f);
}

}  // namespace
}  // namespace hb::kernels
