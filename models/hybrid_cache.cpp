#include "models/hybrid_cache.h"

#include "harness/base/error.h"

namespace hb::models {

HybridCache::HybridCache(const ModelConfig& config, torch::ScalarType kv_dtype, torch::ScalarType ssm_dtype,
                         torch::Device device)
    : config_(config), kv_dtype_(kv_dtype), ssm_dtype_(ssm_dtype), device_(device) {}

void HybridCache::zero_state(SequenceState& s) {
  s.length = 0;
  for (auto& t : s.conv) t.zero_();
  for (auto& t : s.ssm) t.zero_();
}

int HybridCache::create(int64_t reserve_tokens) {
  auto s = std::make_unique<SequenceState>();
  s->capacity = reserve_tokens;
  auto kv_opts = torch::TensorOptions().dtype(kv_dtype_).device(device_);
  const auto& ssm = config_.ssm;
  int64_t conv_ch = ssm.repeat_kv_before_conv ? ssm.d_inner : ssm.d_xb;
  for (auto kind : config_.layers) {
    if (kind == LayerKind::attention) {
      // Uninitialised: rows past `length` are never read.
      s->k.push_back(torch::empty({reserve_tokens, config_.num_kv_heads, config_.head_dim}, kv_opts));
      s->v.push_back(torch::empty({reserve_tokens, config_.num_kv_heads, config_.head_dim}, kv_opts));
    } else {
      s->conv.push_back(torch::zeros({ssm.d_conv - 1, conv_ch}, kv_opts.dtype(torch::kFloat32)));
      s->ssm.push_back(torch::zeros({ssm.d_inner, ssm.d_state}, kv_opts.dtype(ssm_dtype_)));
    }
  }
  reserved_ += reserve_tokens;
  int id = next_id_++;
  seqs_[id] = std::move(s);
  return id;
}

void HybridCache::release(int id) {
  auto it = seqs_.find(id);
  if (it == seqs_.end()) return;
  reserved_ -= it->second->capacity;
  seqs_.erase(it);
}

void HybridCache::reset(int id) { zero_state(get(id)); }

SequenceState& HybridCache::get(int id) {
  auto it = seqs_.find(id);
  if (it == seqs_.end()) throw Error(ErrorCode::internal, "unknown sequence id " + std::to_string(id) + " in the hybrid cache");
  return *it->second;
}

const SequenceState& HybridCache::get(int id) const { return const_cast<HybridCache*>(this)->get(id); }

int64_t HybridCache::state_bytes_per_sequence() const {
  return config_.state_bytes_per_sequence(4, torch::elementSize(ssm_dtype_));
}

int64_t HybridCache::kv_bytes_per_token() const { return config_.kv_bytes_per_token(torch::elementSize(kv_dtype_)); }

}  // namespace hb::models
