#pragma once
// The model's shape, read from a Hugging Face config.json (MistralForCausalLM, LlamaForCausalLM and the
// Apriel-H1 hybrids) or built by a preset. Values always come from the file: the spec's "wrong defaults"
// (d_state 64, dt_rank "auto", head_dim = hidden/heads, d_inner = expand*hidden) are never assumed for a
// field the file sets, and a field the engine cannot honour fails loudly with its name. No LibTorch here.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hb::models {

enum class LayerKind { attention, mamba };  // layout codes "t" and "m2"

const char* layer_code(LayerKind kind);

struct SsmConfig {
  int d_state = 0;
  int d_xb = 0;
  int d_inner = 0;
  int dt_rank = 0;
  int d_conv = 4;
  bool conv_bias = true;
  bool bias = false;           // in_proj / out_proj bias (unsupported when true)
  bool dt_proj_bias = true;
  bool repeat_kv_before_conv = true;
};

struct ModelConfig {
  std::string name;            // display name ("tiny/h30", a directory's basename)
  std::string model_type;      // "mistral", "llama", "apriel_h", ...
  int vocab_size = 0;
  int hidden_size = 0;
  int intermediate_size = 0;
  int num_heads = 0;
  int num_kv_heads = 0;
  int head_dim = 0;
  double rms_norm_eps = 1e-5;
  double rope_theta = 10000.0;
  int max_position_embeddings = 4096;
  // Mistral-style sliding-window attention: each query attends to the last `sliding_window` keys (its own
  // included, i.e. key positions > q - W); 0 = full causal attention. The KV cache still keeps every key.
  int sliding_window = 0;
  bool tie_word_embeddings = false;
  int bos_token_id = -1;
  std::vector<int> eos_token_ids;
  std::string torch_dtype = "bfloat16";  // on-disk dtype as declared by the file
  std::vector<LayerKind> layers;
  SsmConfig ssm;               // meaningful when any layer is mamba

  int num_layers() const { return static_cast<int>(layers.size()); }
  int attention_layers() const;
  int mamba_layers() const;
  std::string layout_string() const;  // e.g. "t,t,m2,t"

  // Parameter counts (exact, from the shapes).
  int64_t attention_mixer_params() const;
  int64_t mamba_mixer_params() const;
  int64_t params() const;
  // Bytes of all weights at `bytes_per_param` (2 = bf16).
  int64_t weight_bytes(int bytes_per_param = 2) const { return params() * bytes_per_param; }
  // KV cache bytes per token over all attention layers (K and V), at `bytes_per_elem` (2 = bf16).
  int64_t kv_bytes_per_token(int bytes_per_elem = 2) const;
  // Recurrent state per sequence over all mamba layers: conv window (d_conv-1 inputs, `conv_bytes`) plus
  // SSM state (d_inner x d_state, `ssm_bytes`); defaults: bf16 conv window, fp32 SSM state (spec 5.1).
  int64_t state_bytes_per_sequence(int conv_bytes = 2, int ssm_bytes = 4) const;

  nlohmann::json to_json() const;
};

// Parses a config.json object. `source` names the file in error messages.
ModelConfig parse_model_config(const nlohmann::json& j, const std::string& source);
// Reads DIR/config.json.
ModelConfig load_model_config(const std::string& dir);

// Spec section 5: physical decode bound on one H100-SXM (3.35 TB/s, 989 TFLOP/s dense bf16), bf16 weights
// and KV, fp32 SSM state. Returns output tokens/s for `batch` sequences at resident context `context`.
double h100_decode_bound_tokens_per_s(const ModelConfig& c, int64_t batch, int64_t context);
// Largest batch whose KV (at the final context) + state fits: 0.90*80e9 - weights - 3e9 (spec 5.1).
int64_t h100_max_batch(const ModelConfig& c, int64_t context);

}  // namespace hb::models
