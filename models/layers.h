#pragma once
// Engine-internal (includes LibTorch). The two mixers and the MLP of a decoder block, as weights plus
// forward functions over a packed batch: rows of all sequences are concatenated ([Ttot, H]) for the
// projections, and the sequence-local parts (attention over the KV cache, conv + scan over the state)
// run per sequence on that sequence's rows only.
#include <vector>

#include <torch/torch.h>

#include "models/model_config.h"

namespace hb::models {

struct AttentionWeights {
  torch::Tensor q, k, v, o;  // [nh*hd, H], [nkv*hd, H], [nkv*hd, H], [H, nh*hd]
};

struct MambaWeights {
  torch::Tensor in_proj;     // [2*d_inner + 2*d_xb, H]: rows z | x | B | C (legacy dt rows split off at load)
  torch::Tensor dt_in;       // [dt_rank, H]
  torch::Tensor dt_proj;     // [d_inner, dt_rank]
  torch::Tensor dt_bias2;    // [d_inner]: 2 * dt_proj.bias (the reference adds the bias twice, spec 3.3.3)
  torch::Tensor conv_w;      // [conv channels, d_conv]
  torch::Tensor conv_b;      // [conv channels] or undefined
  torch::Tensor A;           // [d_inner, d_state] = -exp(A_log), fp32
  torch::Tensor D;           // [d_inner], fp32
  torch::Tensor out_proj;    // [H, d_inner]
};

struct LayerWeights {
  LayerKind kind = LayerKind::attention;
  torch::Tensor input_norm, post_norm;
  torch::Tensor gate, up, down;
  AttentionWeights attn;
  MambaWeights mamba;
  int cache_index = 0;  // index among the layers of the same kind (into SequenceState::k/v or conv/ssm)
};

// One sequence's slice of the packed rows.
struct SeqSlice {
  int64_t row = 0;         // first row in the packed batch
  int64_t tokens = 0;      // rows of this sequence in this step
  int64_t start = 0;       // position of its first row (tokens already cached)
  torch::Tensor* k = nullptr;    // attention: this layer's KV cache of the sequence
  torch::Tensor* v = nullptr;
  torch::Tensor* conv = nullptr; // mamba: this layer's conv window and SSM state of the sequence
  torch::Tensor* ssm = nullptr;
};

// u: normed input [Ttot, H]; positions [Ttot] int64. Writes K/V rows into the caches. Returns [Ttot, H].
torch::Tensor attention_forward(const ModelConfig& c, const AttentionWeights& w, const torch::Tensor& u,
                                const torch::Tensor& positions, const std::vector<SeqSlice>& seqs);
// The m2 mixer (spec 3.3), continuing each sequence from its conv window and SSM state. Returns [Ttot, H].
torch::Tensor mamba_forward(const ModelConfig& c, const MambaWeights& w, const torch::Tensor& u,
                            const std::vector<SeqSlice>& seqs);

}  // namespace hb::models
