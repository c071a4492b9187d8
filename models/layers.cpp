#include "models/layers.h"

#include "kernels/ops.h"

namespace hb::models {

torch::Tensor attention_forward(const ModelConfig& c, const AttentionWeights& w, const torch::Tensor& u,
                                const torch::Tensor& positions, const std::vector<SeqSlice>& seqs) {
  const int64_t T = u.size(0);
  auto q = torch::linear(u, w.q).view({T, c.num_heads, c.head_dim});
  auto k = torch::linear(u, w.k).view({T, c.num_kv_heads, c.head_dim});
  auto v = torch::linear(u, w.v).view({T, c.num_kv_heads, c.head_dim});
  q = kernels::rope(q, positions, c.rope_theta);
  k = kernels::rope(k, positions, c.rope_theta);
  std::vector<torch::Tensor> outs;
  outs.reserve(seqs.size());
  for (const auto& s : seqs) {
    s.k->narrow(0, s.start, s.tokens).copy_(k.narrow(0, s.row, s.tokens));
    s.v->narrow(0, s.start, s.tokens).copy_(v.narrow(0, s.row, s.tokens));
    outs.push_back(kernels::gqa_attention(q.narrow(0, s.row, s.tokens), *s.k, *s.v, s.start, c.sliding_window));
  }
  auto o = outs.size() == 1 ? outs[0] : torch::cat(outs, 0);
  return torch::linear(o, w.o);
}

torch::Tensor mamba_forward(const ModelConfig& c, const MambaWeights& w, const torch::Tensor& u,
                            const std::vector<SeqSlice>& seqs) {
  const auto& ssm = c.ssm;
  const int64_t T = u.size(0), di = ssm.d_inner, dxb = ssm.d_xb, N = ssm.d_state;
  const int64_t n_xb = dxb / N, n_c = di / N, r = di / dxb;
  auto p = torch::linear(u, w.in_proj);  // [T, 2di + 2dxb]
  auto z = p.narrow(1, 0, di);
  auto x_raw = p.narrow(1, di, dxb);
  auto b_raw = p.narrow(1, di + dxb, dxb);
  auto c_flat = p.narrow(1, di + 2 * dxb, di);
  // dt = dt_proj(dt_in_proj(u)) with the bias added twice, then softplus (spec 3.3.3).
  auto delta = kernels::softplus(torch::linear(torch::linear(u, w.dt_in), w.dt_proj).to(torch::kFloat32) + w.dt_bias2);
  // Repeat-interleave groups of d_state channels r times: x~[c] = x_raw[(c / (N r)) N + c mod N] (spec 3.3.2).
  auto repeat = [&](const torch::Tensor& x) {
    const int64_t t = x.size(0);
    return x.reshape({t, n_xb, 1, N}).expand({t, n_xb, r, N}).reshape({t, di});
  };
  std::vector<torch::Tensor> ys;
  ys.reserve(seqs.size());
  for (const auto& s : seqs) {
    auto xs = x_raw.narrow(0, s.row, s.tokens);
    torch::Tensor xc;
    if (ssm.repeat_kv_before_conv) {
      xc = kernels::causal_conv1d(repeat(xs), *s.conv, w.conv_w, w.conv_b);
    } else {
      xc = repeat(kernels::causal_conv1d(xs, *s.conv, w.conv_w, w.conv_b));
    }
    kernels::SelectiveScanArgs a;
    a.x = xc;
    a.delta = delta.narrow(0, s.row, s.tokens);
    a.z = z.narrow(0, s.row, s.tokens);
    a.A = w.A;
    a.Bg = b_raw.narrow(0, s.row, s.tokens).reshape({s.tokens, n_xb, N});
    a.Cg = c_flat.narrow(0, s.row, s.tokens).reshape({s.tokens, n_c, N});
    a.D = w.D;
    ys.push_back(kernels::selective_scan(a, *s.ssm).to(u.scalar_type()));
  }
  auto y = ys.size() == 1 ? ys[0] : torch::cat(ys, 0);
  (void)T;
  return torch::linear(y, w.out_proj);
}

}  // namespace hb::models
