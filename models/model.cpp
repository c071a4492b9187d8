#include "models/model.h"

#include "harness/base/error.h"
#include "harness/base/strings.h"
#include "kernels/ops.h"
#include "models/hybrid_cache.h"
#include "models/model_weights.h"
#include "models/presets.h"
#include "models/safetensors.h"

namespace hb::models {

struct Model::Impl {
  ModelConfig config;
  std::string dir;
  ModelWeights weights;
  torch::ScalarType dtype = torch::kFloat32;
  std::unique_ptr<HybridCache> cache;
  std::vector<LayerDrop> drops;  // per layer; empty = nothing dropped
};

Model::Model(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Model::~Model() = default;

std::unique_ptr<Model> Model::load(const std::string& spec, const ModelOptions& options) {
  if (options.device != "cpu") {
    throw Error(ErrorCode::config, "Model::load is the CPU reference path; device '" + options.device + "' goes through make_engine");
  }
  if (options.threads > 0) torch::set_num_threads(options.threads);
  torch::NoGradGuard no_grad;
  auto impl = std::make_unique<Impl>();
  if (starts_with(spec, "preset:")) {
    std::string name = spec.substr(7);
    impl->config = preset_config(name);
    impl->weights = random_weights(impl->config, preset_seed(name), impl->dtype);
  } else {
    impl->dir = spec;
    impl->config = load_model_config(spec);
    auto store = WeightStore::open_dir(spec);
    impl->weights = load_weights(impl->config, *store, impl->dtype);
  }
  torch::ScalarType ssm_dtype;
  if (options.ssm_state_dtype == "fp32") {
    ssm_dtype = torch::kFloat32;
  } else if (options.ssm_state_dtype == "bf16") {
    ssm_dtype = torch::kBFloat16;
  } else {
    throw Error(ErrorCode::config, "ssm state dtype '" + options.ssm_state_dtype + "' is not fp32 or bf16");
  }
  impl->cache = std::make_unique<HybridCache>(impl->config, impl->dtype, ssm_dtype, torch::Device(torch::kCPU));
  auto model = std::unique_ptr<Model>(new Model(std::move(impl)));
  model->set_layer_drops(options.drops);
  return model;
}

void Model::set_layer_drops(const LayerDrops& drops) {
  validate_layer_drops(drops, impl_->config.num_layers(), "'" + impl_->config.name + "'");
  impl_->drops = drops.empty() ? std::vector<LayerDrop>{} : drops.per_layer(impl_->config.num_layers());
}

const ModelConfig& Model::config() const { return impl_->config; }
const std::string& Model::source_dir() const { return impl_->dir; }
std::string Model::weights_dtype() const { return impl_->weights.disk_dtype; }

int Model::create_sequence(int64_t reserve_tokens) {
  if (reserve_tokens <= 0) throw Error(ErrorCode::usage, "a sequence must reserve at least one token");
  return impl_->cache->create(reserve_tokens);
}
void Model::release_sequence(int seq) { impl_->cache->release(seq); }
void Model::reset_sequence(int seq) { impl_->cache->reset(seq); }
int64_t Model::sequence_length(int seq) const { return impl_->cache->get(seq).length; }
int64_t Model::reserved_tokens() const { return impl_->cache->reserved_tokens(); }

std::vector<std::vector<float>> Model::forward(const std::vector<SequenceInput>& batch, bool all_logits) {
  torch::NoGradGuard no_grad;
  auto& im = *impl_;
  const auto& c = im.config;
  std::vector<SeqSlice> slices;
  std::vector<int64_t> ids, positions;
  int64_t row = 0;
  for (const auto& in : batch) {
    auto& st = im.cache->get(in.seq);
    if (in.tokens.empty()) throw Error(ErrorCode::internal, "forward() got an empty input for sequence " + std::to_string(in.seq));
    if (st.length + int64_t(in.tokens.size()) > st.capacity) {
      throw Error(ErrorCode::usage, "sequence " + std::to_string(in.seq) + " would hold " +
                                        std::to_string(st.length + in.tokens.size()) + " tokens but reserved " +
                                        std::to_string(st.capacity));
    }
    SeqSlice s;
    s.row = row;
    s.tokens = int64_t(in.tokens.size());
    s.start = st.length;
    for (size_t i = 0; i < in.tokens.size(); ++i) {
      int32_t t = in.tokens[i];
      if (t < 0 || t >= c.vocab_size) {
        throw Error(ErrorCode::usage, "token id " + std::to_string(t) + " is outside the vocabulary of " + std::to_string(c.vocab_size));
      }
      ids.push_back(t);
      positions.push_back(st.length + int64_t(i));
    }
    row += s.tokens;
    slices.push_back(s);
  }
  auto ids_t = torch::tensor(ids, torch::kInt64);
  auto pos_t = torch::tensor(positions, torch::kInt64);
  auto h = im.weights.embed.index_select(0, ids_t);
  for (size_t li = 0; li < im.weights.layers.size(); ++li) {
    const auto& L = im.weights.layers[li];
    const LayerDrop drop = im.drops.empty() ? LayerDrop::keep : im.drops[li];
    if (drop == LayerDrop::layer) continue;  // the residual passes through
    std::vector<SeqSlice> ls = slices;
    for (size_t b = 0; b < batch.size(); ++b) {
      auto& st = im.cache->get(batch[b].seq);
      if (L.kind == LayerKind::attention) {
        ls[b].k = &st.k[L.cache_index];
        ls[b].v = &st.v[L.cache_index];
      } else {
        ls[b].conv = &st.conv[L.cache_index];
        ls[b].ssm = &st.ssm[L.cache_index];
      }
    }
    if (drop == LayerDrop::keep) {
      auto u = kernels::rms_norm(h, L.input_norm, c.rms_norm_eps);
      h = h + (L.kind == LayerKind::attention ? attention_forward(c, L.attn, u, pos_t, ls) : mamba_forward(c, L.mamba, u, ls));
    }
    h = h + kernels::swiglu_mlp(kernels::rms_norm(h, L.post_norm, c.rms_norm_eps), L.gate, L.up, L.down);
  }
  for (size_t b = 0; b < batch.size(); ++b) im.cache->get(batch[b].seq).length += slices[b].tokens;

  std::vector<std::vector<float>> out;
  out.reserve(batch.size());
  for (const auto& s : slices) {
    auto rows = all_logits ? h.narrow(0, s.row, s.tokens) : h.narrow(0, s.row + s.tokens - 1, 1);
    auto logits = torch::linear(kernels::rms_norm(rows, im.weights.final_norm, c.rms_norm_eps), im.weights.lm_head)
                      .to(torch::kFloat32)
                      .contiguous();
    const float* p = logits.data_ptr<float>();
    out.emplace_back(p, p + logits.numel());
  }
  return out;
}

}  // namespace hb::models
