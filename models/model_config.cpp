#include "models/model_config.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <set>

#include "harness/base/console.h"
#include "harness/base/error.h"
#include "harness/base/files.h"
#include "harness/base/strings.h"

namespace hb::models {
namespace {

using nlohmann::json;

Error config_error(const std::string& source, const std::string& what) {
  return Error(ErrorCode::config, source + ": " + what);
}

int get_int(const json& j, const char* key, const std::string& source, bool required, int fallback = 0) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) throw config_error(source, std::string("missing required field '") + key + "'; add it to config.json");
    return fallback;
  }
  if (!it->is_number_integer()) {
    throw config_error(source, std::string("field '") + key + "' must be an integer, got " + it->dump());
  }
  return it->get<int>();
}

double get_double(const json& j, const char* key, double fallback, const std::string& source) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_number()) throw config_error(source, std::string("field '") + key + "' must be a number, got " + it->dump());
  return it->get<double>();
}

bool get_bool(const json& j, const char* key, bool fallback, const std::string& source) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) throw config_error(source, std::string("field '") + key + "' must be true or false, got " + it->dump());
  return it->get<bool>();
}

LayerKind parse_layer_code(const std::string& code, size_t index, const std::string& source) {
  if (code == "t" || code == "full_attention") return LayerKind::attention;
  if (code == "m2" || code == "mamba2") return LayerKind::mamba;
  throw config_error(source, "unsupported layer type '" + code + "' at layer " + std::to_string(index) +
                                 " of hybrid_block_layout; supported: t (attention), m2 (Apriel MIL mamba)");
}

void check_unsupported(const json& j, const std::string& source) {
  auto rs = j.find("rope_scaling");
  if (rs != j.end() && !rs->is_null()) {
    std::string type = rs->is_object() ? rs->value("rope_type", rs->value("type", std::string("?"))) : rs->dump();
    if (type != "default") {
      throw config_error(source, "unsupported rope_scaling of type '" + type +
                                     "'; only unscaled RoPE is implemented (remove rope_scaling or use a checkpoint without it)");
    }
  }
  auto act = j.find("hidden_act");
  if (act != j.end() && act->is_string() && *act != "silu") {
    throw config_error(source, "unsupported field 'hidden_act' = '" + act->get<std::string>() + "'; only silu (SwiGLU) is implemented");
  }
  if (get_bool(j, "attention_bias", false, source)) throw config_error(source, "unsupported field 'attention_bias' = true");
  if (get_bool(j, "mlp_bias", false, source)) throw config_error(source, "unsupported field 'mlp_bias' = true");
}

// `sliding_window` as transformers' Mistral treats it (the Apriel hybrids subclass MistralModel): null or
// absent = full attention, an integer W = the last W keys. Llama's config class has no such field (LlamaModel
// never reads it), and a Qwen-style `use_sliding_window: false` turns it off.
int parse_sliding_window(const json& j, const std::string& model_type, const std::string& source) {
  auto sw = j.find("sliding_window");
  if (sw == j.end() || sw->is_null()) return 0;
  if (!sw->is_number_integer() || sw->get<int64_t>() < 1 || sw->get<int64_t>() > INT32_MAX) {
    throw config_error(source, "field 'sliding_window' = " + sw->dump() +
                                   " must be null (full attention) or a positive integer (keys per query)");
  }
  if (model_type == "llama") {
    log_info("{}: 'sliding_window' = {} is ignored, as transformers' Llama ignores it (full attention)", source, sw->dump());
    return 0;
  }
  auto use = j.find("use_sliding_window");
  if (use != j.end() && use->is_boolean() && !use->get<bool>()) return 0;
  return sw->get<int>();
}

SsmConfig parse_ssm(const json& j, const ModelConfig& c, const std::string& source) {
  auto it = j.find("ssm_cfg");
  if (it == j.end() || !it->is_object()) {
    throw config_error(source, "the layout has m2 layers but 'ssm_cfg' is missing; add ssm_cfg with d_state, d_xb, d_inner, dt_rank");
  }
  const json& s = *it;
  std::string where = source + " ssm_cfg";
  SsmConfig ssm;
  ssm.d_state = get_int(s, "d_state", where, true);
  // null d_inner / d_xb fall back as upstream's m2 mixer does (expand * hidden, hidden); d_inner must then
  // come with an integer `expand`.
  auto din = s.find("d_inner");
  if (din != s.end() && din->is_null()) {
    auto ex = s.find("expand");
    if (ex == s.end() || !ex->is_number_integer()) {
      throw config_error(where, "field 'd_inner' is null and 'expand' = " + (ex == s.end() ? std::string("(absent)") : ex->dump()) +
                                    " is not an integer; set d_inner (the Apriel-H1 value is 4096)");
    }
    ssm.d_inner = ex->get<int>() * c.hidden_size;
  } else {
    ssm.d_inner = get_int(s, "d_inner", where, true);
  }
  ssm.d_xb = get_int(s, "d_xb", where, false, c.hidden_size);
  ssm.d_conv = get_int(s, "d_conv", where, false, 4);
  auto dt = s.find("dt_rank");
  if (dt == s.end() || dt->is_null()) {
    throw config_error(where, "missing 'dt_rank'; add it (the Apriel-H1 value is 16)");
  } else if (dt->is_string()) {
    if (*dt != "auto") throw config_error(where, "field 'dt_rank' = " + dt->dump() + " is neither an integer nor \"auto\"");
    ssm.dt_rank = (c.hidden_size + 15) / 16;  // Mamba's "auto": ceil(hidden/16)
  } else {
    ssm.dt_rank = dt->get<int>();
  }
  ssm.conv_bias = get_bool(s, "conv_bias", true, where);
  ssm.bias = get_bool(s, "bias", false, where);
  ssm.dt_proj_bias = get_bool(s, "dt_proj_bias", true, where);
  ssm.repeat_kv_before_conv = get_bool(s, "repeat_kv_before_conv", true, where);
  // Upstream's config defaults write activation "identity" (a DiscreteMamba2 setting); the m2 mixer never
  // reads it and always applies SiLU after the conv.
  auto act = s.find("activation");
  if (act != s.end() && !act->is_null() && *act != "silu") {
    log_info("{}: 'activation' = {} is ignored: the m2 mixer always applies SiLU after the conv, as upstream's does",
             where, act->dump());
  }
  if (ssm.bias) throw config_error(where, "unsupported field 'bias' = true (in_proj/out_proj biases are not implemented)");
  if (ssm.d_state <= 0 || ssm.d_inner <= 0 || ssm.d_xb <= 0 || ssm.dt_rank <= 0 || ssm.d_conv <= 0) {
    throw config_error(where, "non-positive dimension (d_state, d_inner, d_xb, dt_rank, d_conv must be > 0)");
  }
  if (ssm.d_inner % ssm.d_state != 0 || ssm.d_xb % ssm.d_state != 0 || ssm.d_inner % ssm.d_xb != 0) {
    throw config_error(where, "d_inner (" + std::to_string(ssm.d_inner) + ") and d_xb (" + std::to_string(ssm.d_xb) +
                                  ") must be multiples of d_state (" + std::to_string(ssm.d_state) +
                                  ") and d_inner a multiple of d_xb");
  }
  return ssm;
}

}  // namespace

const char* layer_code(LayerKind kind) { return kind == LayerKind::attention ? "t" : "m2"; }

int ModelConfig::attention_layers() const {
  return static_cast<int>(std::count(layers.begin(), layers.end(), LayerKind::attention));
}
int ModelConfig::mamba_layers() const { return num_layers() - attention_layers(); }

std::string ModelConfig::layout_string() const {
  std::vector<std::string> codes;
  for (auto k : layers) codes.emplace_back(layer_code(k));
  return join(codes, ",");
}

int64_t ModelConfig::attention_mixer_params() const {
  int64_t h = hidden_size, q = int64_t(num_heads) * head_dim, kv = int64_t(num_kv_heads) * head_dim;
  return h * q + 2 * h * kv + q * h;
}

int64_t ModelConfig::mamba_mixer_params() const {
  int64_t h = hidden_size, di = ssm.d_inner, dxb = ssm.d_xb, ds = ssm.d_state, r = ssm.dt_rank;
  int64_t conv_ch = ssm.repeat_kv_before_conv ? di : dxb;
  return (2 * di + 2 * dxb) * h + r * h + di * r + (ssm.dt_proj_bias ? di : 0) + conv_ch * ssm.d_conv +
         (ssm.conv_bias ? conv_ch : 0) + di * ds + di + h * di;
}

int64_t ModelConfig::params() const {
  int64_t h = hidden_size;
  int64_t total = int64_t(vocab_size) * h * (tie_word_embeddings ? 1 : 2) + h;
  for (auto k : layers) {
    total += 2 * h + 3 * h * intermediate_size;
    total += k == LayerKind::attention ? attention_mixer_params() : mamba_mixer_params();
  }
  return total;
}

int64_t ModelConfig::kv_bytes_per_token(int bytes_per_elem) const {
  return int64_t(attention_layers()) * 2 * num_kv_heads * head_dim * bytes_per_elem;
}

int64_t ModelConfig::state_bytes_per_sequence(int conv_bytes, int ssm_bytes) const {
  if (mamba_layers() == 0) return 0;
  int64_t conv_ch = ssm.repeat_kv_before_conv ? ssm.d_inner : ssm.d_xb;
  int64_t per_layer = int64_t(ssm.d_conv - 1) * conv_ch * conv_bytes + int64_t(ssm.d_inner) * ssm.d_state * ssm_bytes;
  return per_layer * mamba_layers();
}

nlohmann::json ModelConfig::to_json() const {
  json j = {{"name", name},
            {"model_type", model_type},
            {"vocab_size", vocab_size},
            {"hidden_size", hidden_size},
            {"intermediate_size", intermediate_size},
            {"num_attention_heads", num_heads},
            {"num_key_value_heads", num_kv_heads},
            {"head_dim", head_dim},
            {"rms_norm_eps", rms_norm_eps},
            {"rope_theta", rope_theta},
            {"max_position_embeddings", max_position_embeddings},
            {"sliding_window", sliding_window > 0 ? json(sliding_window) : json(nullptr)},
            {"tie_word_embeddings", tie_word_embeddings},
            {"layout", layout_string()}};
  if (mamba_layers() > 0) {
    j["ssm_cfg"] = {{"d_state", ssm.d_state}, {"d_xb", ssm.d_xb},     {"d_inner", ssm.d_inner},
                    {"dt_rank", ssm.dt_rank}, {"d_conv", ssm.d_conv}, {"repeat_kv_before_conv", ssm.repeat_kv_before_conv}};
  }
  return j;
}

ModelConfig parse_model_config(const json& j, const std::string& source) {
  if (!j.is_object()) throw config_error(source, "config.json is not a JSON object");
  ModelConfig c;
  c.model_type = j.value("model_type", std::string());
  static const std::set<std::string> dense = {"mistral", "llama"};
  static const std::set<std::string> hybrid = {"apriel_h", "apriel_ssm_thinker_hybrid", "apriel_hybrid_ssm"};
  bool is_hybrid = hybrid.count(c.model_type) > 0;
  if (!is_hybrid && !dense.count(c.model_type)) {
    std::string arch = j.contains("architectures") ? j["architectures"].dump() : "?";
    throw config_error(source, "unsupported model_type '" + c.model_type + "' (architectures " + arch +
                                   "); supported: mistral, llama, apriel_h, apriel_ssm_thinker_hybrid, apriel_hybrid_ssm");
  }
  check_unsupported(j, source);
  c.vocab_size = get_int(j, "vocab_size", source, true);
  c.hidden_size = get_int(j, "hidden_size", source, true);
  c.intermediate_size = get_int(j, "intermediate_size", source, true);
  c.num_heads = get_int(j, "num_attention_heads", source, true);
  c.num_kv_heads = get_int(j, "num_key_value_heads", source, false, c.num_heads);
  // head_dim: from the file; only a file without it falls back to hidden/heads (and says so in inspect).
  c.head_dim = get_int(j, "head_dim", source, false, 0);
  if (c.head_dim == 0) c.head_dim = c.hidden_size / c.num_heads;
  c.rms_norm_eps = get_double(j, "rms_norm_eps", 1e-5, source);
  c.rope_theta = get_double(j, "rope_theta", 10000.0, source);
  // transformers >= 5 writes rope_parameters {rope_theta, rope_type} instead.
  auto rp = j.find("rope_parameters");
  if (rp != j.end() && rp->is_object()) {
    std::string type = rp->value("rope_type", std::string("default"));
    if (type != "default") {
      throw config_error(source, "unsupported rope_parameters.rope_type '" + type + "'; only unscaled RoPE is implemented");
    }
    c.rope_theta = get_double(*rp, "rope_theta", c.rope_theta, source + " rope_parameters");
  }
  c.max_position_embeddings = get_int(j, "max_position_embeddings", source, false, 4096);
  c.sliding_window = parse_sliding_window(j, c.model_type, source);
  c.tie_word_embeddings = get_bool(j, "tie_word_embeddings", false, source);
  c.bos_token_id = get_int(j, "bos_token_id", source, false, -1);
  auto eos = j.find("eos_token_id");
  if (eos != j.end() && eos->is_number_integer()) c.eos_token_ids.push_back(eos->get<int>());
  if (eos != j.end() && eos->is_array()) c.eos_token_ids = eos->get<std::vector<int>>();
  c.torch_dtype = j.value("torch_dtype", j.value("dtype", std::string("bfloat16")));
  if (c.num_kv_heads <= 0 || c.num_heads % c.num_kv_heads != 0) {
    throw config_error(source, "num_attention_heads (" + std::to_string(c.num_heads) +
                                   ") must be a positive multiple of num_key_value_heads (" + std::to_string(c.num_kv_heads) + ")");
  }
  if (c.head_dim % 2 != 0) throw config_error(source, "head_dim " + std::to_string(c.head_dim) + " must be even for RoPE");

  int n_layers = get_int(j, "num_hidden_layers", source, true);
  if (is_hybrid) {
    auto lay = j.find("hybrid_block_layout");
    const json* list = nullptr;
    if (lay != j.end() && lay->is_array()) list = &*lay;
    auto lt = j.find("layer_types");
    if (!list && lt != j.end() && lt->is_array()) list = &*lt;
    if (!list) throw config_error(source, "hybrid model without 'hybrid_block_layout'; add the per-layer list of \"t\"/\"m2\"");
    for (size_t i = 0; i < list->size(); ++i) {
      if (!(*list)[i].is_string()) {
        throw config_error(source, "hybrid_block_layout entry " + std::to_string(i) + " = " + (*list)[i].dump() + " is not a string");
      }
      c.layers.push_back(parse_layer_code((*list)[i].get<std::string>(), i, source));
    }
    if (c.num_layers() != n_layers) {
      throw config_error(source, "hybrid_block_layout has " + std::to_string(c.num_layers()) +
                                     " entries but num_hidden_layers is " + std::to_string(n_layers));
    }
  } else {
    c.layers.assign(n_layers, LayerKind::attention);
  }
  if (c.mamba_layers() > 0) c.ssm = parse_ssm(j, c, source);
  return c;
}

ModelConfig load_model_config(const std::string& dir) {
  std::string path = dir + "/config.json";
  if (!file_exists(path)) {
    throw Error(ErrorCode::not_found, "no config.json in '" + dir + "'; pass a Hugging Face checkpoint directory");
  }
  ModelConfig c = parse_model_config(read_json_file(path), path);
  std::string base = dir;
  while (!base.empty() && base.back() == '/') base.pop_back();
  c.name = base.substr(base.find_last_of('/') + 1);
  return c;
}

double h100_decode_bound_tokens_per_s(const ModelConfig& c, int64_t batch, int64_t context) {
  const double bw = 3.35e12, peak = 989e12;
  int64_t embed = int64_t(c.vocab_size) * c.hidden_size;
  double streamed = 2.0 * double(c.params() - (c.tie_word_embeddings ? 0 : embed));
  double per_seq = double(c.kv_bytes_per_token()) * double(context + 1) + 2.0 * double(c.state_bytes_per_sequence());
  double flops = 2.0 * double(c.params() - embed) +
                 double(c.attention_layers()) * 4.0 * c.num_heads * c.head_dim * double(context);
  double t = std::max((streamed + batch * per_seq) / bw, batch * flops / peak);
  return double(batch) / t;
}

int64_t h100_max_batch(const ModelConfig& c, int64_t context) {
  double budget = 0.90 * 80e9 - double(c.weight_bytes()) - 3e9;
  double per_seq = double(c.kv_bytes_per_token()) * double(context) + double(c.state_bytes_per_sequence());
  if (budget <= 0 || per_seq <= 0) return 0;
  return static_cast<int64_t>(budget / per_seq);
}

}  // namespace hb::models
