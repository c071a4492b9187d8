#include "models/gpu/gpu_model.h"

#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/version.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "harness/base/error.h"
#include "harness/base/strings.h"
#include "kernels/ops.h"
#include "kernels/ops_cuda.h"
#include "models/model_weights.h"
#include "models/presets.h"
#include "models/safetensors.h"

namespace hb::models::gpu {
namespace kc = hb::kernels::cuda;

namespace {

constexpr double kLog2e = 1.4426950408889634;

struct GLayer {
  LayerKind kind = LayerKind::attention;
  int index = 0;  // among layers of the same kind
  torch::Tensor in_norm, post_norm, w_gu, w_down;
  torch::Tensor w_qkv, w_o;
  torch::Tensor w_in, w_dt, w_out;
  kc::M2Tensors m2;  // constants (proj/dt filled per call)
};

double gib(int64_t b) { return double(b) / double(1ull << 30); }

}  // namespace

std::string MemoryPlan::describe() const {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(2);
  o << "GPU memory plan: total " << gib(total_bytes) << " GiB; weights " << gib(weight_bytes) << " GiB; free after weights "
    << gib(free_after_weights) << " GiB; reserve " << gib(reserve_bytes) << " GiB; per slot (" << max_context
    << " tokens): KV " << gib(kv_bytes_per_slot) << " GiB + state " << double(state_bytes_per_slot) / 1e6 << " MB => "
    << slots << " slots (max sequences at this shape)";
  return o.str();
}

double decode_step_bytes(const ModelConfig& c, int64_t batch, int64_t context) {
  const int64_t embed = int64_t(c.vocab_size) * c.hidden_size;
  const double weights = 2.0 * double(c.params() - (c.tie_word_embeddings ? 0 : embed));
  const double kv = double(c.kv_bytes_per_token()) * double(context);
  const double state = 2.0 * double(c.state_bytes_per_sequence());
  return weights + double(batch) * (kv + state);
}

struct GpuModel::Impl {
  ModelConfig c;
  GpuOptions opt;
  MemoryPlan plan;
  torch::Device dev{torch::kCUDA, 0};
  torch::Tensor embed, final_norm, lm_head;
  std::vector<GLayer> layers;
  std::vector<LayerDrop> drops;  // per layer; empty = nothing dropped
  torch::Tensor kv, conv, ssm, cos, sin;  // ssm: [M, slots, N/4, di, 4] (see ops_cuda.h)
  std::vector<char> used;
  int A = 0, M = 0, Hq = 0, Hkv = 0, HD = 0, di = 0, dxb = 0, N = 0, K = 0, rows_m2 = 0, max_bucket = 1;
  // Decode buffers.
  torch::Tensor d_tokens, d_pos, d_slots, d_cu;
  // Per-row sampling parameters read by the decode graphs, the sampled log-probabilities, and pinned host
  // buffers for the per-step read-back.
  kc::SampleRows d_sampling;
  torch::Tensor d_logprob, h_tokens, h_logprob, d_zero_step;
  int rows = 0, bucket = 0;
  std::map<int, std::unique_ptr<at::cuda::CUDAGraph>> graphs;
  std::map<int, torch::Tensor> graph_logits;
  std::map<int, int> eager_runs;
  at::cuda::MempoolId_t pool{0, 0};

  torch::TensorOptions bf16() const { return torch::TensorOptions().device(dev).dtype(torch::kBFloat16); }
  torch::TensorOptions f32() const { return torch::TensorOptions().device(dev).dtype(torch::kFloat32); }
  torch::TensorOptions i32() const { return torch::TensorOptions().device(dev).dtype(torch::kInt32); }

  torch::Tensor k_layer(int i) { return kv[i][0]; }
  torch::Tensor v_layer(int i) { return kv[i][1]; }

  struct SeqRows {
    int slot;
    int64_t row, tokens, start;
  };

  // The residual stream after the last layer. Batched rows: `u` holds the final-normed rows [T, H] bf16. One
  // decode row (fused): every norm, the SwiGLU and every residual add run inside the GEMVs (ops_cuda.h), so
  // only `res` [1, H] fp32 is kept and the head normalises it itself (head_logits).
  struct Hidden {
    torch::Tensor res, u;
    bool fused = false;
  };

  // Whether every projection of this model can take the one-row fused GEMV (all widths multiples of 8).
  bool fusable() const {
    const int64_t H = c.hidden_size, I = c.intermediate_size;
    return H % 8 == 0 && I % 8 == 0 && (int64_t(Hq) * HD) % 8 == 0 && di % 8 == 0;
  }

  torch::Tensor head_logits(const Hidden& h) {
    return h.fused ? kc::norm_linear(h.res, final_norm, c.rms_norm_eps, lm_head) : kc::linear(h.u, lm_head);
  }

  // Runs all layers over T packed rows.
  Hidden forward_rows(const torch::Tensor& ids, const torch::Tensor& pos, const torch::Tensor& row_slots,
                      const torch::Tensor& cu, const torch::Tensor& seq_slots, bool decode, const std::vector<SeqRows>& seqs) {
    const int64_t T = ids.size(0), H = c.hidden_size;
    const double eps = c.rms_norm_eps;
    Hidden h;
    h.fused = decode && kc::fused_gemv(T) && fusable();
    h.res = embed.index_select(0, ids).to(torch::kFloat32).contiguous();
    auto& res = h.res;
    // Skipped blocks (drop_layer) are left out of the loop, so each norm is fused with the next kept layer's.
    std::vector<size_t> active;
    for (size_t li = 0; li < layers.size(); ++li)
      if (drops.empty() || drops[li] != LayerDrop::layer) active.push_back(li);
    if (!h.fused) {
      h.u = torch::empty({T, H}, bf16());
      kc::rms_norm_residual(res, torch::Tensor(), active.empty() ? final_norm : layers[active[0]].in_norm, h.u, eps);
    }
    // norm -> projection: the fused GEMV normalises `res` itself; batched, `u` already holds the normed rows.
    auto project = [&](const torch::Tensor& norm_w, const torch::Tensor& w) {
      return h.fused ? kc::norm_linear(res, norm_w, eps, w) : kc::linear(h.u, w);
    };
    // projection -> residual (x undefined: nothing to add); batched, fused with the next norm into `u`.
    auto add_residual = [&](const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& next_norm) {
      if (h.fused) {
        if (x.defined()) kc::linear_add_(x, w, res);
        return;
      }
      kc::rms_norm_residual(res, x.defined() ? kc::linear(x, w) : torch::Tensor(), next_norm, h.u, eps);
    };
    torch::Tensor lens;
    if (decode && A > 0) lens = (pos + 1).to(torch::kInt32);
    for (size_t ai = 0; ai < active.size(); ++ai) {
      auto& L = layers[active[ai]];
      if (!drops.empty() && drops[active[ai]] == LayerDrop::mixer) {
        add_residual(torch::Tensor(), torch::Tensor(), L.post_norm);  // the residual gets nothing
      } else if (L.kind == LayerKind::attention) {
        auto qkv = project(L.in_norm, L.w_qkv);
        auto q = torch::empty({T, int64_t(Hq) * HD}, bf16());
        auto kl = k_layer(L.index), vl = v_layer(L.index);
        kc::rope_kv_write(qkv, q, kl, vl, row_slots, pos, cos, sin, Hq, Hkv);
        auto o = torch::empty({T, int64_t(Hq) * HD}, bf16());
        if (decode) {
          kc::decode_attention(q, kl, vl, row_slots, lens, o, plan.max_context, c.sliding_window);
        } else {
          for (const auto& s : seqs) attend_prefill(q, kl, vl, s, o);
        }
        add_residual(o, L.w_o, L.post_norm);
      } else {
        auto p = project(L.in_norm, L.w_in);  // [T, rows + dt_rank]
        auto dt = kc::linear(p.narrow(1, rows_m2, c.ssm.dt_rank), L.w_dt);
        auto y = torch::empty({T, int64_t(di)}, bf16());
        kc::M2Tensors m = L.m2;
        m.proj = p;
        m.dt = dt;
        auto cl = conv[L.index], sl = ssm[L.index];
        kc::m2_scan(m, cl, sl, cu, seq_slots, dxb, y);
        add_residual(y, L.w_out, L.post_norm);
      }
      auto gu = project(L.post_norm, L.w_gu);
      if (h.fused) {
        kc::swiglu_linear_add_(gu, L.w_down, res);
      } else {
        auto act = torch::empty({T, int64_t(c.intermediate_size)}, bf16());
        kc::swiglu(gu, act);
        const auto& next = ai + 1 < active.size() ? layers[active[ai + 1]].in_norm : final_norm;
        kc::rms_norm_residual(res, kc::linear(act, L.w_down), next, h.u, eps);
      }
    }
    return h;
  }

  // Causal attention of a prefill chunk over its slot's cached keys; with a sliding window (c.sliding_window
  // = W) the row at position p sees keys p-W+1..p only, so keys before the chunk's first window are skipped.
  void attend_prefill(const torch::Tensor& q, const torch::Tensor& kl, const torch::Tensor& vl, const SeqRows& s, torch::Tensor& o) {
    const int64_t S = s.start + s.tokens, G = Hq / Hkv, W = c.sliding_window;
    const int64_t k0 = W > 0 ? std::max<int64_t>(0, s.start - W + 1) : 0;
    auto qi = q.narrow(0, s.row, s.tokens).view({s.tokens, Hq, HD});
    auto ki = kl[s.slot].narrow(1, k0, S - k0);  // [Hkv, S-k0, HD]
    auto vi = vl[s.slot].narrow(1, k0, S - k0);
#if TORCH_VERSION_MAJOR >= 2
    auto qq = qi.transpose(0, 1).unsqueeze(0);  // [1, Hq, T, HD]
    auto kk = (G > 1 ? ki.repeat_interleave(G, 0) : ki).unsqueeze(0);
    auto vv = (G > 1 ? vi.repeat_interleave(G, 0) : vi).unsqueeze(0);
    torch::Tensor out;
    if (s.start == 0 && (W <= 0 || W >= S)) {
      out = at::scaled_dot_product_attention(qq, kk, vv, c10::nullopt, 0.0, /*is_causal=*/true);
    } else {
      auto qpos = torch::arange(s.start, S, torch::TensorOptions().device(dev).dtype(torch::kInt64)).unsqueeze(1);
      auto kpos = torch::arange(k0, S, torch::TensorOptions().device(dev).dtype(torch::kInt64)).unsqueeze(0);
      auto attend = kpos <= qpos;
      if (W > 0) attend = attend & (kpos > qpos - W);
      out = at::scaled_dot_product_attention(qq, kk, vv, attend, 0.0, false);
    }
    o.narrow(0, s.row, s.tokens).copy_(out.squeeze(0).transpose(0, 1).reshape({s.tokens, int64_t(Hq) * HD}));
#else
    (void)G;
    // The CPU reference's convention: q_start counts from the first key passed in.
    auto out = hb::kernels::gqa_attention(qi, ki.transpose(0, 1), vi.transpose(0, 1), s.start - k0, W);
    o.narrow(0, s.row, s.tokens).copy_(out);
#endif
  }

  static kc::SampleRows rows_of(const kc::SampleRows& r, int64_t n) {
    return {r.temperature.narrow(0, 0, n), r.top_k.narrow(0, 0, n), r.top_p.narrow(0, 0, n),
            r.min_p.narrow(0, 0, n),       r.seed.narrow(0, 0, n),  r.banned.narrow(0, 0, n)};
  }

  // Host-side rows -> the device sampling tensors (rows beyond sampling.size(): greedy).
  void fill_sampling(kc::SampleRows& dst, const std::vector<RowSampling>& sampling, int64_t n) {
    std::vector<float> t(size_t(n), 0.f), tp(size_t(n), 1.f), mp(size_t(n), 0.f);
    std::vector<int32_t> tk(size_t(n), -1), ban(size_t(n) * GpuModel::kMaxBanned, -1);
    std::vector<int64_t> sd(size_t(n), 0);
    for (size_t i = 0; i < sampling.size() && int64_t(i) < n; ++i) {
      const auto& r = sampling[i];
      if (r.banned.size() > size_t(GpuModel::kMaxBanned)) {
        throw Error(ErrorCode::usage, "the CUDA engine bans at most " + std::to_string(GpuModel::kMaxBanned) +
                                          " token ids per row, got " + std::to_string(r.banned.size()));
      }
      t[i] = r.temperature;
      tp[i] = r.top_p;
      mp[i] = r.min_p;
      tk[i] = r.top_k;
      sd[i] = r.seed;
      for (size_t j = 0; j < r.banned.size(); ++j) ban[i * GpuModel::kMaxBanned + j] = r.banned[j];
    }
    dst.temperature.narrow(0, 0, n).copy_(torch::tensor(t));
    dst.top_p.narrow(0, 0, n).copy_(torch::tensor(tp));
    dst.min_p.narrow(0, 0, n).copy_(torch::tensor(mp));
    dst.top_k.narrow(0, 0, n).copy_(torch::tensor(tk, torch::kInt32));
    dst.seed.narrow(0, 0, n).copy_(torch::tensor(sd, torch::kInt64));
    dst.banned.narrow(0, 0, n).copy_(torch::tensor(ban, torch::kInt32).view({n, GpuModel::kMaxBanned}));
  }

  kc::SampleRows make_sampling(int64_t n) const {
    return {torch::zeros({n}, f32()), torch::full({n}, -1, i32()), torch::ones({n}, f32()), torch::zeros({n}, f32()),
            torch::zeros({n}, torch::TensorOptions().device(dev).dtype(torch::kInt64)),
            torch::full({n, int64_t(GpuModel::kMaxBanned)}, -1, i32())};
  }

  static torch::Tensor position_seeds(const torch::Tensor& seeds, const torch::Tensor& pos) {
    return seeds * 1000003 + pos.to(torch::kInt64);
  }

  torch::Tensor decode_body(int B) {
    auto ids = d_tokens.narrow(0, 0, B);
    auto pos = d_pos.narrow(0, 0, B);
    auto sl = d_slots.narrow(0, 0, B);
    auto cu = d_cu.narrow(0, 0, B + 1);
    auto logits = head_logits(forward_rows(ids, pos, sl, cu, sl, true, {}));  // [B, V] bf16
    auto toks = d_tokens.narrow(0, 0, B);
    auto lp = d_logprob.narrow(0, 0, B);
    // A row's random stream is a function of its request's seed and the position being sampled, so a
    // seeded request draws the same tokens whatever its batch mates and whenever it was admitted.
    auto rows = rows_of(d_sampling, B);
    rows.seed = position_seeds(rows.seed, pos);
    kc::sample(logits, rows, d_zero_step, toks, &lp);
    pos.add_(1);
    return logits;
  }
};

GpuModel::GpuModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GpuModel::~GpuModel() {
  if (impl_) {
    impl_->graphs.clear();
    impl_->graph_logits.clear();
    impl_.reset();
    c10::cuda::CUDACachingAllocator::emptyCache();
  }
}

const ModelConfig& GpuModel::config() const { return impl_->c; }
const MemoryPlan& GpuModel::plan() const { return impl_->plan; }

int GpuModel::bucket_for(int rows) {
  static const int fixed[] = {1, 2, 4, 8, 16, 24, 32, 48, 64, 80, 96, 128, 160, 192, 256, 320, 384, 512};
  for (int b : fixed) {
    if (rows <= b) return b;
  }
  return (rows + 127) / 128 * 128;
}

std::unique_ptr<GpuModel> GpuModel::load(const std::string& spec, const GpuOptions& options) {
  torch::NoGradGuard ng;
  int ndev = 0;
  if (cudaGetDeviceCount(&ndev) != cudaSuccess || ndev == 0) {
    cudaGetLastError();
    throw Error(ErrorCode::config, "no CUDA device is visible");
  }
  auto im = std::make_unique<Impl>();
  im->opt = options;
  auto& c = im->c;
  const bool preset = starts_with(spec, "preset:");
  if (preset) c = preset_config(spec.substr(7));
  else c = load_model_config(spec);
  const auto& s = c.ssm;
  im->A = c.attention_layers();
  im->M = c.mamba_layers();
  im->Hq = c.num_heads;
  im->Hkv = c.num_kv_heads;
  im->HD = c.head_dim;
  if (im->M > 0) {
    if (!s.repeat_kv_before_conv) throw Error(ErrorCode::config, "the CUDA path needs repeat_kv_before_conv = true");
    if (s.d_conv != 4) throw Error(ErrorCode::config, "the CUDA path supports d_conv 4 only");
    if (s.d_state != 4 && s.d_state != 8 && s.d_state != 16 && s.d_state != 32) {
      throw Error(ErrorCode::config, "the CUDA path supports d_state 4, 8, 16 or 32");
    }
    im->di = s.d_inner;
    im->dxb = s.d_xb;
    im->N = s.d_state;
    im->K = s.d_conv;
    im->rows_m2 = 2 * s.d_inner + 2 * s.d_xb;
  }
  const auto& dev = im->dev;
  auto bf = im->bf16();
  auto f32 = im->f32();
  const int64_t H = c.hidden_size, I = c.intermediate_size;
  const int64_t qd = int64_t(c.num_heads) * c.head_dim, kvd = int64_t(c.num_kv_heads) * c.head_dim;
  if (preset && c.params() > 1000000000LL) {
    // Big random-weight presets: drawn on the GPU (same distributions as random_weights; a different stream).
    torch::manual_seed(preset_seed(spec.substr(7)));
    const double depth = 1.0 / std::sqrt(2.0 * std::max(1, c.num_layers()));
    auto lin = [&](int64_t out, int64_t in, double scale) { return torch::randn({out, in}, bf).mul_(scale / std::sqrt(double(in))); };
    im->embed = torch::randn({int64_t(c.vocab_size), H}, bf);
    im->final_norm = torch::ones({H}, bf);
    im->lm_head = c.tie_word_embeddings ? im->embed : lin(c.vocab_size, H, 1.0);
    int ai = 0, mi = 0;
    for (int i = 0; i < c.num_layers(); ++i) {
      GLayer L;
      L.kind = c.layers[i];
      L.in_norm = torch::ones({H}, bf);
      L.post_norm = torch::ones({H}, bf);
      L.w_gu = lin(2 * I, H, 1.0);
      L.w_down = lin(H, I, depth);
      if (L.kind == LayerKind::attention) {
        L.index = ai++;
        L.w_qkv = lin(qd + 2 * kvd, H, 1.0);
        L.w_o = lin(H, qd, depth);
      } else {
        L.index = mi++;
        const int64_t di = s.d_inner;
        L.w_in = lin(im->rows_m2 + s.dt_rank, H, 1.0);
        L.w_dt = lin(di, s.dt_rank, 1.0);
        L.w_out = lin(H, di, depth);
        auto dt = torch::exp(torch::rand({di}, f32) * (std::log(0.1) - std::log(1e-3)) + std::log(1e-3));
        L.m2.dt_bias2 = (2.0 * (dt + torch::log(-torch::expm1(-dt)))).contiguous();
        L.m2.conv_w = (torch::randn({di, int64_t(s.d_conv)}, f32) / std::sqrt(double(s.d_conv))).contiguous();
        if (s.conv_bias) L.m2.conv_b = (torch::randn({di}, f32) * 0.1).contiguous();
        auto n = torch::arange(1, s.d_state + 1, f32).unsqueeze(0).expand({di, int64_t(s.d_state)});
        L.m2.A2 = (-n * kLog2e).contiguous();
        L.m2.D = torch::ones({di}, f32);
      }
      im->layers.push_back(std::move(L));
    }
  } else {
    // Small presets and checkpoints: the CPU loader's fp32 weights (exactly the reference's), fused and cast.
    ModelWeights w = preset ? random_weights(c, preset_seed(spec.substr(7)), torch::kFloat32)
                            : load_weights(c, *WeightStore::open_dir(spec), torch::kFloat32);
    auto up = [&](const torch::Tensor& t) { return t.to(dev, torch::kBFloat16).contiguous(); };
    auto upf = [&](const torch::Tensor& t) { return t.to(dev, torch::kFloat32).contiguous(); };
    im->embed = up(w.embed);
    im->final_norm = up(w.final_norm);
    im->lm_head = c.tie_word_embeddings ? im->embed : up(w.lm_head);
    for (const auto& src : w.layers) {
      GLayer L;
      L.kind = src.kind;
      L.index = src.cache_index;
      L.in_norm = up(src.input_norm);
      L.post_norm = up(src.post_norm);
      L.w_gu = up(torch::cat({src.gate, src.up}, 0));
      L.w_down = up(src.down);
      if (L.kind == LayerKind::attention) {
        L.w_qkv = up(torch::cat({src.attn.q, src.attn.k, src.attn.v}, 0));
        L.w_o = up(src.attn.o);
      } else {
        const auto& m = src.mamba;
        L.w_in = up(torch::cat({m.in_proj, m.dt_in}, 0));
        L.w_dt = up(m.dt_proj);
        L.w_out = up(m.out_proj);
        L.m2.dt_bias2 = upf(m.dt_bias2);
        L.m2.conv_w = upf(m.conv_w);
        if (m.conv_b.defined()) L.m2.conv_b = upf(m.conv_b);
        L.m2.A2 = upf(m.A * kLog2e);
        L.m2.D = upf(m.D);
      }
      im->layers.push_back(std::move(L));
    }
  }
  torch::cuda::synchronize();
  validate_layer_drops(options.drops, c.num_layers(), "'" + c.name + "'");
  if (!options.drops.empty()) im->drops = options.drops.per_layer(c.num_layers());

  // Memory plan.
  auto& plan = im->plan;
  for (const auto& L : im->layers) {
    for (const auto* t : {&L.in_norm, &L.post_norm, &L.w_gu, &L.w_down, &L.w_qkv, &L.w_o, &L.w_in, &L.w_dt, &L.w_out}) {
      if (t->defined()) plan.weight_bytes += t->numel() * t->element_size();
    }
  }
  plan.weight_bytes += im->embed.numel() * 2 + im->final_norm.numel() * 2 + (c.tie_word_embeddings ? 0 : im->lm_head.numel() * 2);
  c10::cuda::CUDACachingAllocator::emptyCache();
  size_t free_b = 0, total_b = 0;
  cudaMemGetInfo(&free_b, &total_b);
  plan.total_bytes = int64_t(total_b);
  plan.free_after_weights = int64_t(free_b);
  plan.reserve_bytes = int64_t(options.reserve_gib * double(1ull << 30));
  plan.max_context = options.max_context;
  plan.kv_bytes_per_slot = int64_t(im->A) * 2 * im->Hkv * options.max_context * im->HD * 2;
  plan.state_bytes_per_slot = int64_t(im->M) * (int64_t(im->K - 1) * im->di * 2 + int64_t(im->di) * im->N * 4);
  const int64_t per_slot = plan.kv_bytes_per_slot + plan.state_bytes_per_slot;
  const int64_t budget = plan.free_after_weights - plan.reserve_bytes;
  int64_t slots = per_slot > 0 ? budget / per_slot : 1024;
  if (options.max_slots > 0) slots = std::min<int64_t>(slots, options.max_slots);
  slots = std::min<int64_t>(slots, 1024);
  if (slots < 1) {
    throw Error(ErrorCode::config, "not enough GPU memory for one sequence of " + std::to_string(options.max_context) +
                                       " tokens: " + plan.describe());
  }
  plan.slots = slots;
  if (im->A > 0) im->kv = torch::zeros({int64_t(im->A), 2, slots, int64_t(im->Hkv), options.max_context, int64_t(im->HD)}, bf);
  if (im->M > 0) {
    im->conv = torch::zeros({int64_t(im->M), slots, int64_t(im->K - 1), int64_t(im->di)}, bf);
    im->ssm = torch::zeros({int64_t(im->M), slots, int64_t(im->N / 4), int64_t(im->di), 4}, f32);  // kernel layout
  }
  std::tie(im->cos, im->sin) = kc::rope_tables(options.max_context, im->HD, c.rope_theta, dev);
  im->used.assign(size_t(slots), 0);
  im->max_bucket = bucket_for(int(slots));
  auto i64 = torch::TensorOptions().device(dev).dtype(torch::kInt64);
  im->d_tokens = torch::zeros({im->max_bucket}, i64);
  im->d_pos = torch::zeros({im->max_bucket}, im->i32());
  im->d_slots = torch::full({im->max_bucket}, -1, im->i32());
  im->d_cu = torch::arange(0, im->max_bucket + 1, im->i32());
  im->d_zero_step = torch::zeros({1}, i64);
  im->d_sampling = im->make_sampling(im->max_bucket);
  im->d_logprob = torch::zeros({im->max_bucket}, im->f32());
  im->h_tokens = torch::zeros({im->max_bucket}, torch::TensorOptions().dtype(torch::kInt64).pinned_memory(true));
  im->h_logprob = torch::zeros({im->max_bucket}, torch::TensorOptions().dtype(torch::kFloat32).pinned_memory(true));
  im->pool = at::cuda::graph_pool_handle();
  torch::cuda::synchronize();
  return std::unique_ptr<GpuModel>(new GpuModel(std::move(im)));
}

int GpuModel::free_slots() const {
  int n = 0;
  for (char u : impl_->used) n += u ? 0 : 1;
  return n;
}

int GpuModel::acquire_slot() {
  for (size_t i = 0; i < impl_->used.size(); ++i) {
    if (!impl_->used[i]) {
      impl_->used[i] = 1;
      reset_slot(int(i));
      return int(i);
    }
  }
  return -1;
}

void GpuModel::release_slot(int slot) {
  if (slot >= 0 && size_t(slot) < impl_->used.size()) impl_->used[size_t(slot)] = 0;
}

void GpuModel::reset_slot(int slot) {
  torch::NoGradGuard ng;
  if (impl_->M > 0) {
    impl_->conv.select(1, slot).zero_();
    impl_->ssm.select(1, slot).zero_();
  }
}

void GpuModel::set_layer_drops(const LayerDrops& drops) {
  auto& im = *impl_;
  validate_layer_drops(drops, im.c.num_layers(), "'" + im.c.name + "'");
  im.drops = drops.empty() ? std::vector<LayerDrop>{} : drops.per_layer(im.c.num_layers());
  im.graphs.clear();
  im.graph_logits.clear();
}

torch::Tensor GpuModel::prefill(const std::vector<int>& slots, const std::vector<std::vector<int32_t>>& tokens,
                                const std::vector<int64_t>& starts, bool all_rows) {
  torch::NoGradGuard ng;
  auto& im = *impl_;
  if (slots.size() != tokens.size() || slots.size() != starts.size()) throw Error(ErrorCode::internal, "prefill: size mismatch");
  std::vector<int64_t> ids, last;
  std::vector<int32_t> pos, rslots, cu{0}, sslots;
  std::vector<Impl::SeqRows> seqs;
  for (size_t i = 0; i < slots.size(); ++i) {
    const auto& t = tokens[i];
    if (t.empty()) throw Error(ErrorCode::internal, "prefill: empty sequence");
    if (starts[i] + int64_t(t.size()) > im.plan.max_context) {
      throw Error(ErrorCode::usage, "prefill past the slot's reservation of " + std::to_string(im.plan.max_context) + " tokens");
    }
    seqs.push_back({slots[i], int64_t(ids.size()), int64_t(t.size()), starts[i]});
    for (size_t j = 0; j < t.size(); ++j) {
      if (t[j] < 0 || t[j] >= im.c.vocab_size) throw Error(ErrorCode::usage, "token id outside the vocabulary");
      ids.push_back(t[j]);
      pos.push_back(int32_t(starts[i] + int64_t(j)));
      rslots.push_back(slots[i]);
    }
    last.push_back(int64_t(ids.size()) - 1);
    cu.push_back(int32_t(ids.size()));
    sslots.push_back(slots[i]);
  }
  auto dev = im.dev;
  auto to_dev64 = [&](const std::vector<int64_t>& v) { return torch::tensor(v, torch::kInt64).to(dev); };
  auto to_dev32 = [&](const std::vector<int32_t>& v) { return torch::tensor(v, torch::kInt32).to(dev); };
  auto u = im.forward_rows(to_dev64(ids), to_dev32(pos), to_dev32(rslots), to_dev32(cu), to_dev32(sslots), false, seqs).u;
  if (all_rows) return kc::linear(u, im.lm_head).to(torch::kFloat32);
  auto lu = u.index_select(0, to_dev64(last));
  return kc::linear(lu, im.lm_head).to(torch::kFloat32);
}

void GpuModel::set_decode_batch(const std::vector<int>& slots, const std::vector<int64_t>& tokens,
                                const std::vector<int64_t>& positions, const std::vector<RowSampling>* sampling) {
  auto& im = *impl_;
  const int n = int(slots.size());
  if (n == 0 || n > int(im.plan.slots) || tokens.size() != slots.size() || positions.size() != slots.size() ||
      (sampling && sampling->size() != slots.size())) {
    throw Error(ErrorCode::internal, "set_decode_batch: bad batch");
  }
  const int b = std::min(bucket_for(n), im.max_bucket);
  std::vector<int64_t> t(size_t(b), 0);
  std::vector<int32_t> p(size_t(b), 0), s(size_t(b), -1);
  for (int i = 0; i < n; ++i) {
    if (positions[size_t(i)] >= im.plan.max_context) throw Error(ErrorCode::usage, "decode past the slot's reservation");
    t[size_t(i)] = tokens[size_t(i)];
    p[size_t(i)] = int32_t(positions[size_t(i)]);
    s[size_t(i)] = slots[size_t(i)];
  }
  im.d_tokens.narrow(0, 0, b).copy_(torch::tensor(t, torch::kInt64));
  im.d_pos.narrow(0, 0, b).copy_(torch::tensor(p, torch::kInt32));
  im.d_slots.narrow(0, 0, b).copy_(torch::tensor(s, torch::kInt32));
  if (sampling) {
    im.fill_sampling(im.d_sampling, *sampling, b);
  } else {
    RowSampling all;
    all.temperature = float(im.opt.temperature);
    all.seed = int64_t(im.opt.seed);
    im.fill_sampling(im.d_sampling, std::vector<RowSampling>(size_t(b), all), b);
  }
  im.rows = n;
  im.bucket = b;
}

torch::Tensor GpuModel::decode_step() {
  torch::NoGradGuard ng;
  auto& im = *impl_;
  const int B = im.bucket;
  if (B == 0) throw Error(ErrorCode::internal, "decode_step without a batch");
  if (!im.opt.use_graphs) return im.decode_body(B);
  auto it = im.graphs.find(B);
  if (it != im.graphs.end()) {
    it->second->replay();
    return im.graph_logits[B];
  }
  // First step of this bucket: run it eagerly (warms cuBLAS and lazy inits; a real step), then capture the
  // graph for the next ones (capture records without executing, so no state moves).
  auto logits = im.decode_body(B);
  torch::cuda::synchronize();
  auto graph = std::make_unique<at::cuda::CUDAGraph>();
  auto stream = c10::cuda::getStreamFromPool();
  {
    c10::cuda::CUDAStreamGuard guard(stream);
    graph->capture_begin(im.pool);
    im.graph_logits[B] = im.decode_body(B);
    graph->capture_end();
  }
  torch::cuda::synchronize();
  im.graphs[B] = std::move(graph);
  return logits;
}

torch::Tensor GpuModel::sampled_tokens() const { return impl_->d_tokens.narrow(0, 0, impl_->bucket); }

std::vector<int64_t> GpuModel::read_sampled(std::vector<float>* logprobs) {
  auto& im = *impl_;
  const int64_t n = im.rows;
  im.h_tokens.narrow(0, 0, n).copy_(im.d_tokens.narrow(0, 0, n), /*non_blocking=*/true);
  if (logprobs) im.h_logprob.narrow(0, 0, n).copy_(im.d_logprob.narrow(0, 0, n), true);
  c10::cuda::getCurrentCUDAStream().synchronize();
  const int64_t* p = im.h_tokens.data_ptr<int64_t>();
  if (logprobs) {
    const float* q = im.h_logprob.data_ptr<float>();
    logprobs->assign(q, q + n);
  }
  return std::vector<int64_t>(p, p + n);
}

std::vector<int64_t> GpuModel::sample_rows(const torch::Tensor& logits, const std::vector<RowSampling>& sampling,
                                           const std::vector<int64_t>& positions, std::vector<float>* logprobs) {
  torch::NoGradGuard ng;
  auto& im = *impl_;
  const int64_t n = logits.size(0);
  if (int64_t(sampling.size()) != n || int64_t(positions.size()) != n) {
    throw Error(ErrorCode::internal, "sample_rows: one RowSampling and one position per row expected");
  }
  auto rows = im.make_sampling(n);
  im.fill_sampling(rows, sampling, n);
  rows.seed = Impl::position_seeds(rows.seed, torch::tensor(positions, torch::kInt64).to(im.dev));
  auto toks = torch::empty({n}, torch::TensorOptions().device(im.dev).dtype(torch::kInt64));
  auto lp = torch::empty({n}, im.f32());
  kc::sample(logits, rows, im.d_zero_step, toks, &lp);
  auto ht = toks.to(torch::kCPU);
  if (logprobs) {
    auto hl = lp.to(torch::kCPU);
    logprobs->assign(hl.data_ptr<float>(), hl.data_ptr<float>() + n);
  }
  return std::vector<int64_t>(ht.data_ptr<int64_t>(), ht.data_ptr<int64_t>() + n);
}

int GpuModel::bucket() const { return impl_->bucket; }
int GpuModel::decode_rows() const { return impl_->rows; }

void GpuModel::fill_random_cache(uint64_t seed) {
  torch::NoGradGuard ng;
  torch::manual_seed(seed);
  auto& im = *impl_;
  if (im.A > 0) {
    for (int64_t i = 0; i < im.kv.size(0); ++i) im.kv[i].normal_();
  }
  if (im.M > 0) {
    im.conv.normal_();
    im.ssm.normal_(0.0, 0.1);
  }
  torch::cuda::synchronize();
}

void GpuModel::set_positions(int64_t position) {
  auto& im = *impl_;
  im.d_pos.narrow(0, 0, im.rows).fill_(int32_t(position));
}

int64_t GpuModel::kv_pool_bytes() const { return impl_->A > 0 ? impl_->kv.numel() * 2 : 0; }
int64_t GpuModel::state_pool_bytes() const {
  return impl_->M > 0 ? impl_->conv.numel() * 2 + impl_->ssm.numel() * 4 : 0;
}

}  // namespace hb::models::gpu
