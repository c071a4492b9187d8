#include "models/model_weights.h"

#include <set>

#include <ATen/CPUGeneratorImpl.h>

#include "harness/base/error.h"
#include "harness/base/strings.h"
#include "models/safetensors.h"

namespace hb::models {
namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  std::vector<std::string> parts;
  for (auto d : s) parts.push_back(std::to_string(d));
  return "[" + join(parts, ",") + "]";
}

torch::ScalarType torch_dtype(WeightDType d) {
  switch (d) {
    case WeightDType::f32: return torch::kFloat32;
    case WeightDType::f16: return torch::kFloat16;
    case WeightDType::bf16: return torch::kBFloat16;
  }
  return torch::kFloat32;
}

class Checker {
 public:
  Checker(const WeightStore& store, torch::ScalarType dtype) : store_(store), dtype_(dtype) {}

  const TensorView* peek(const std::string& name) const { return store_.find(name); }

  torch::Tensor take(const std::string& name, const std::vector<int64_t>& shape, bool optional = false,
                     torch::ScalarType as = c10::ScalarType::Undefined) {
    const TensorView* v = store_.find(name);
    if (!v) {
      if (!optional) missing_.push_back(name + " " + shape_str(shape));
      return {};
    }
    used_.insert(name);
    if (v->shape != shape) {
      bad_.push_back(name + " is " + shape_str(v->shape) + ", expected " + shape_str(shape));
      return {};
    }
    disk_dtype_ = weight_dtype_name(v->dtype);
    auto t = torch::from_blob(const_cast<uint8_t*>(v->data), v->shape, torch::TensorOptions().dtype(torch_dtype(v->dtype)));
    return t.to(as == c10::ScalarType::Undefined ? dtype_ : as).clone();  // own the memory; the map may go
  }

  void finish(const std::string& what) {
    std::vector<std::string> unused;
    for (const auto& n : store_.names()) {
      if (!used_.count(n)) unused.push_back(n);
    }
    if (missing_.empty() && bad_.empty() && unused.empty()) return;
    std::string msg = "checkpoint tensors do not match the config of " + what + ":";
    if (!missing_.empty()) msg += " missing (" + std::to_string(missing_.size()) + "): " + join(missing_, ", ") + ";";
    if (!bad_.empty()) msg += " wrong shape (" + std::to_string(bad_.size()) + "): " + join(bad_, ", ") + ";";
    if (!unused.empty()) msg += " unused (" + std::to_string(unused.size()) + "): " + join(unused, ", ") + ";";
    msg += " check config.json against the safetensors files";
    throw Error(ErrorCode::model, msg);
  }

  const std::string& disk_dtype() const { return disk_dtype_; }

 private:
  const WeightStore& store_;
  torch::ScalarType dtype_;
  std::set<std::string> used_;
  std::vector<std::string> missing_, bad_;
  std::string disk_dtype_ = "F32";
};

}  // namespace

ModelWeights load_weights(const ModelConfig& c, const WeightStore& store, torch::ScalarType dtype) {
  Checker ck(store, dtype);
  ModelWeights w;
  const int64_t H = c.hidden_size, V = c.vocab_size, I = c.intermediate_size;
  const int64_t q = int64_t(c.num_heads) * c.head_dim, kv = int64_t(c.num_kv_heads) * c.head_dim;
  w.embed = ck.take("model.embed_tokens.weight", {V, H});
  w.final_norm = ck.take("model.norm.weight", {H});
  if (c.tie_word_embeddings) {
    w.lm_head = w.embed;
    ck.take("lm_head.weight", {V, H}, /*optional=*/true);
  } else {
    w.lm_head = ck.take("lm_head.weight", {V, H});
  }
  int attn_i = 0, mamba_i = 0;
  for (int i = 0; i < c.num_layers(); ++i) {
    std::string p = "model.layers." + std::to_string(i) + ".";
    LayerWeights L;
    L.kind = c.layers[i];
    L.input_norm = ck.take(p + "input_layernorm.weight", {H});
    L.post_norm = ck.take(p + "post_attention_layernorm.weight", {H});
    L.gate = ck.take(p + "mlp.gate_proj.weight", {I, H});
    L.up = ck.take(p + "mlp.up_proj.weight", {I, H});
    L.down = ck.take(p + "mlp.down_proj.weight", {H, I});
    if (L.kind == LayerKind::attention) {
      L.cache_index = attn_i++;
      L.attn.q = ck.take(p + "self_attn.q_proj.weight", {q, H});
      L.attn.k = ck.take(p + "self_attn.k_proj.weight", {kv, H});
      L.attn.v = ck.take(p + "self_attn.v_proj.weight", {kv, H});
      L.attn.o = ck.take(p + "self_attn.o_proj.weight", {H, q});
    } else {
      L.cache_index = mamba_i++;
      const auto& s = c.ssm;
      const int64_t di = s.d_inner, dxb = s.d_xb, rows = 2 * di + 2 * dxb;
      const int64_t conv_ch = s.repeat_kv_before_conv ? di : dxb;
      auto& m = L.mamba;
      std::string mp = p + "mixer.";
      // Legacy M1 layout: no dt_in_proj, the dt rows are the last dt_rank rows of in_proj (spec 3.1).
      const TensorView* inp = ck.peek(mp + "in_proj.weight");
      bool legacy = !ck.peek(mp + "dt_in_proj.weight") && inp && inp->shape.size() == 2 && inp->shape[0] == rows + s.dt_rank;
      if (legacy) {
        auto full = ck.take(mp + "in_proj.weight", {rows + s.dt_rank, H});
        if (full.defined()) {
          m.in_proj = full.narrow(0, 0, rows).contiguous();
          m.dt_in = full.narrow(0, rows, s.dt_rank).contiguous();
        }
      } else {
        m.in_proj = ck.take(mp + "in_proj.weight", {rows, H});
        m.dt_in = ck.take(mp + "dt_in_proj.weight", {s.dt_rank, H});
      }
      m.dt_proj = ck.take(mp + "dt_proj.weight", {di, s.dt_rank});
      auto dt_bias = ck.take(mp + "dt_proj.bias", {di}, !s.dt_proj_bias, torch::kFloat32);
      m.dt_bias2 = dt_bias.defined() ? (2.0 * dt_bias).contiguous() : torch::zeros({di}, torch::kFloat32);
      auto conv = ck.take(mp + "conv1d.weight", {conv_ch, 1, s.d_conv});
      if (conv.defined()) m.conv_w = conv.view({conv_ch, s.d_conv}).contiguous();
      if (s.conv_bias) m.conv_b = ck.take(mp + "conv1d.bias", {conv_ch});
      auto a_log = ck.take(mp + "A_log", {di, s.d_state}, false, torch::kFloat32);
      if (a_log.defined()) m.A = -torch::exp(a_log);
      m.D = ck.take(mp + "D", {di}, false, torch::kFloat32);
      m.out_proj = ck.take(mp + "out_proj.weight", {H, di});
    }
    w.layers.push_back(std::move(L));
  }
  ck.finish(c.name.empty() ? std::string("the model") : "'" + c.name + "'");
  w.disk_dtype = ck.disk_dtype();
  return w;
}

ModelWeights random_weights(const ModelConfig& c, uint64_t seed, torch::ScalarType dtype) {
  auto gen = at::detail::createCPUGenerator(seed);
  auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  auto normal = [&](std::vector<int64_t> shape, double std) {
    return (torch::randn(shape, gen, f32) * std).to(dtype);
  };
  auto linear = [&](int64_t out, int64_t in) { return normal({out, in}, 1.0 / std::sqrt(double(in))); };
  const int64_t H = c.hidden_size, V = c.vocab_size, I = c.intermediate_size;
  const int64_t q = int64_t(c.num_heads) * c.head_dim, kv = int64_t(c.num_kv_heads) * c.head_dim;
  const double depth = 1.0 / std::sqrt(2.0 * std::max(1, c.num_layers()));  // keeps the residual stream bounded
  ModelWeights w;
  w.disk_dtype = "random";
  w.embed = normal({V, H}, 1.0);
  w.final_norm = torch::ones({H}, f32).to(dtype);
  w.lm_head = c.tie_word_embeddings ? w.embed : linear(V, H);
  int attn_i = 0, mamba_i = 0;
  for (int i = 0; i < c.num_layers(); ++i) {
    LayerWeights L;
    L.kind = c.layers[i];
    L.input_norm = torch::ones({H}, f32).to(dtype);
    L.post_norm = torch::ones({H}, f32).to(dtype);
    L.gate = linear(I, H);
    L.up = linear(I, H);
    L.down = (linear(H, I) * depth).to(dtype);
    if (L.kind == LayerKind::attention) {
      L.cache_index = attn_i++;
      L.attn = {linear(q, H), linear(kv, H), linear(kv, H), (linear(H, q) * depth).to(dtype)};
    } else {
      L.cache_index = mamba_i++;
      const auto& s = c.ssm;
      const int64_t di = s.d_inner, dxb = s.d_xb, conv_ch = s.repeat_kv_before_conv ? di : dxb;
      auto& m = L.mamba;
      m.in_proj = linear(2 * di + 2 * dxb, H);
      m.dt_in = linear(s.dt_rank, H);
      m.dt_proj = linear(di, s.dt_rank);
      // softplus(bias) log-uniform in [1e-3, 1e-1] (MIL init, spec 3.3.9); stored doubled.
      auto dt = torch::exp(torch::rand({di}, gen, f32) * (std::log(0.1) - std::log(1e-3)) + std::log(1e-3));
      auto bias = dt + torch::log(-torch::expm1(-dt));  // inverse softplus
      m.dt_bias2 = 2.0 * bias;
      m.conv_w = normal({conv_ch, s.d_conv}, 1.0 / std::sqrt(double(s.d_conv)));
      if (s.conv_bias) m.conv_b = normal({conv_ch}, 0.1);
      auto n = torch::arange(1, s.d_state + 1, f32).log().unsqueeze(0).expand({di, s.d_state});
      m.A = -torch::exp(n).contiguous();
      m.D = torch::ones({di}, f32);
      m.out_proj = (linear(H, di) * depth).to(dtype);
    }
    w.layers.push_back(std::move(L));
  }
  return w;
}

}  // namespace hb::models
