#pragma once
// Engine-internal (includes LibTorch). The hybrid cache: per sequence, a KV cache only for attention layers
// (sized to the sequence's full reservation at admission) and a conv window + SSM state for mamba layers.
// Sequences never share tensors, so no padding can ever enter a mamba state, and a chunked prefill simply
// continues from the saved state. The SSM state is fp32 by default (bf16 optional).
#include <map>
#include <memory>
#include <vector>

#include <torch/torch.h>

#include "models/model_config.h"

namespace hb::models {

struct SequenceState {
  int64_t length = 0;              // tokens already in the cache (= position of the next token)
  int64_t capacity = 0;            // KV rows reserved
  std::vector<torch::Tensor> k, v;      // per attention layer (in layer order): [capacity, nkv, hd]
  std::vector<torch::Tensor> conv, ssm;  // per mamba layer: [d_conv-1, conv channels], [d_inner, d_state]
};

class HybridCache {
 public:
  HybridCache(const ModelConfig& config, torch::ScalarType kv_dtype, torch::ScalarType ssm_dtype, torch::Device device);
  int create(int64_t reserve_tokens);   // a fresh sequence (zero state); returns its id
  void release(int id);
  void reset(int id);                   // back to an empty sequence, same reservation
  SequenceState& get(int id);
  const SequenceState& get(int id) const;
  int64_t reserved_tokens() const { return reserved_; }
  // Bytes of one sequence's state (mamba) and of one reserved KV token.
  int64_t state_bytes_per_sequence() const;
  int64_t kv_bytes_per_token() const;

 private:
  void zero_state(SequenceState& s);
  const ModelConfig& config_;
  torch::ScalarType kv_dtype_, ssm_dtype_;
  torch::Device device_;
  std::map<int, std::unique_ptr<SequenceState>> seqs_;
  int next_id_ = 0;
  int64_t reserved_ = 0;
};

}  // namespace hb::models
