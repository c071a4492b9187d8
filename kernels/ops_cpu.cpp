// CPU (fp32) references of the hb::kernels ops. Plain LibTorch ops where they express the math directly,
// explicit loops for the recurrences (conv window, selective scan) so that the order of operations is the
// spec's and obviously right.
#include "kernels/ops.h"

#include <algorithm>
#include <cmath>

namespace hb::kernels {

torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& w, double eps) {
  auto xf = x.to(torch::kFloat32);
  auto var = xf.pow(2).mean(-1, /*keepdim=*/true);
  auto y = xf * torch::rsqrt(var + eps);
  return y.to(x.scalar_type()) * w;
}

torch::Tensor rope(const torch::Tensor& x, const torch::Tensor& positions, double theta) {
  const int64_t hd = x.size(-1), half = hd / 2;
  auto idx = torch::arange(0, half, torch::dtype(torch::kFloat64));
  auto inv_freq = torch::pow(theta, -2.0 * idx / double(hd));                       // [half]
  auto ang = positions.to(torch::kFloat64).unsqueeze(1) * inv_freq.unsqueeze(0);  // [T, half]
  auto cos = torch::cos(ang).to(torch::kFloat32).unsqueeze(1);                     // [T, 1, half]
  auto sin = torch::sin(ang).to(torch::kFloat32).unsqueeze(1);
  auto xf = x.to(torch::kFloat32);
  auto x1 = xf.narrow(-1, 0, half), x2 = xf.narrow(-1, half, half);
  auto out = torch::cat({x1 * cos - x2 * sin, x2 * cos + x1 * sin}, -1);
  return out.to(x.scalar_type());
}

torch::Tensor gqa_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, int64_t q_start,
                            int64_t window) {
  const int64_t T = q.size(0), nh = q.size(1), hd = q.size(2), nkv = k.size(1);
  const int64_t S = q_start + T;
  const int64_t group = nh / nkv;
  // With a window, keys before the first query's window are never attended: leave them out.
  const int64_t k0 = window > 0 ? std::max<int64_t>(0, q_start - window + 1) : 0;
  auto qf = q.to(torch::kFloat32).view({T, nkv, group, hd}).permute({1, 2, 0, 3});          // [nkv, g, T, hd]
  auto kf = k.narrow(0, k0, S - k0).to(torch::kFloat32).permute({1, 2, 0}).unsqueeze(1);   // [nkv, 1, hd, S-k0]
  auto vf = v.narrow(0, k0, S - k0).to(torch::kFloat32).permute({1, 0, 2}).unsqueeze(1);   // [nkv, 1, S-k0, hd]
  auto scores = torch::matmul(qf, kf) / std::sqrt(double(hd));                              // [nkv, g, T, S-k0]
  auto qpos = torch::arange(q_start, S, torch::kInt64).unsqueeze(1);
  auto kpos = torch::arange(k0, S, torch::kInt64).unsqueeze(0);
  auto mask = kpos > qpos;                                   // [T, S-k0] future keys
  if (window > 0) mask = mask | (kpos <= qpos - window);    // keys that left the window
  scores = scores.masked_fill(mask, -std::numeric_limits<float>::infinity());
  auto probs = torch::softmax(scores, -1);
  auto out = torch::matmul(probs, vf);                                                      // [nkv, g, T, hd]
  return out.permute({2, 0, 1, 3}).reshape({T, nh * hd}).to(q.scalar_type());
}

torch::Tensor swiglu_mlp(const torch::Tensor& x, const torch::Tensor& w_gate, const torch::Tensor& w_up,
                         const torch::Tensor& w_down) {
  auto g = torch::linear(x, w_gate);
  auto u = torch::linear(x, w_up);
  return torch::linear(torch::silu(g) * u, w_down);
}

torch::Tensor softplus(const torch::Tensor& v) { return torch::softplus(v, /*beta=*/1.0, /*threshold=*/20.0); }

torch::Tensor causal_conv1d(const torch::Tensor& x, torch::Tensor& conv_state, const torch::Tensor& w,
                            const torch::Tensor& b) {
  const int64_t T = x.size(0), C = x.size(1), K = w.size(1);
  // Window = [previous K-1 inputs ; T new inputs]; output t uses window rows t..t+K-1.
  auto window = torch::cat({conv_state.to(torch::kFloat32), x.to(torch::kFloat32)}, 0).contiguous();  // [K-1+T, C]
  auto wf = w.to(torch::kFloat32).contiguous();
  auto out = torch::empty({T, C}, torch::kFloat32);
  const float* win = window.data_ptr<float>();
  const float* wp = wf.data_ptr<float>();
  float* op = out.data_ptr<float>();
  torch::Tensor bf;
  const float* bp = nullptr;
  if (b.defined()) {
    bf = b.to(torch::kFloat32).contiguous();
    bp = bf.data_ptr<float>();
  }
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t c = 0; c < C; ++c) {
      float acc = bp ? bp[c] : 0.f;
      for (int64_t j = 0; j < K; ++j) acc += wp[c * K + j] * win[(t + j) * C + c];
      op[t * C + c] = acc / (1.f + std::exp(-acc));  // SiLU
    }
  }
  if (K > 1) conv_state.copy_(window.narrow(0, T, K - 1));
  return out;
}

torch::Tensor causal_conv1d_update(const torch::Tensor& x, torch::Tensor& conv_state, const torch::Tensor& w,
                                   const torch::Tensor& b) {
  return causal_conv1d(x.view({1, -1}), conv_state, w, b).view({-1});
}

torch::Tensor selective_scan(const SelectiveScanArgs& a, torch::Tensor& state) {
  const int64_t T = a.x.size(0), C = a.x.size(1), N = a.A.size(1);
  const int64_t GB = a.Bg.size(1), GC = a.Cg.size(1);
  const int64_t per_b = C / GB, per_c = C / GC;
  auto x = a.x.to(torch::kFloat32).contiguous();
  auto dl = a.delta.to(torch::kFloat32).contiguous();
  auto z = a.z.to(torch::kFloat32).contiguous();
  auto A = a.A.to(torch::kFloat32).contiguous();
  auto B = a.Bg.to(torch::kFloat32).contiguous();
  auto Cm = a.Cg.to(torch::kFloat32).contiguous();
  auto D = a.D.to(torch::kFloat32).contiguous();
  auto s = state.to(torch::kFloat32).contiguous().clone();
  auto y = torch::empty({T, C}, torch::kFloat32);
  const float *xp = x.data_ptr<float>(), *dp = dl.data_ptr<float>(), *zp = z.data_ptr<float>();
  const float *Ap = A.data_ptr<float>(), *Bp = B.data_ptr<float>(), *Cp = Cm.data_ptr<float>(), *Dp = D.data_ptr<float>();
  float* sp = s.data_ptr<float>();
  float* yp = y.data_ptr<float>();
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t c = 0; c < C; ++c) {
      const float xc = xp[t * C + c], d = dp[t * C + c];
      const float* brow = Bp + (t * GB + c / per_b) * N;
      const float* crow = Cp + (t * GC + c / per_c) * N;
      float* sc = sp + c * N;
      float acc = 0.f;
      for (int64_t n = 0; n < N; ++n) {
        sc[n] = std::exp(d * Ap[c * N + n]) * sc[n] + d * brow[n] * xc;
        acc += crow[n] * sc[n];
      }
      acc += Dp[c] * xc;
      const float zz = zp[t * C + c];
      yp[t * C + c] = acc * (zz / (1.f + std::exp(-zz)));
    }
  }
  state.copy_(s);
  return y;
}

torch::Tensor selective_state_update(const SelectiveScanArgs& args, torch::Tensor& state) {
  return selective_scan(args, state);
}

}  // namespace hb::kernels
