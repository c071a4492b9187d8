#pragma once
// Engine-internal (includes LibTorch): the model's weights, loaded from a checkpoint with every tensor
// checked by name and shape (one error listing all missing, mis-shaped and unused tensors), or drawn at
// random for presets.
#include <string>
#include <vector>

#include <torch/torch.h>

#include "models/layers.h"
#include "models/model_config.h"

namespace hb::models {

class WeightStore;

struct ModelWeights {
  torch::Tensor embed;       // [V, H]
  torch::Tensor final_norm;  // [H]
  torch::Tensor lm_head;     // [V, H] (aliases embed when tied)
  std::vector<LayerWeights> layers;
  std::string disk_dtype;    // "BF16", "F32", ... or "random"
};

ModelWeights load_weights(const ModelConfig& config, const WeightStore& store, torch::ScalarType dtype);
ModelWeights random_weights(const ModelConfig& config, uint64_t seed, torch::ScalarType dtype);

}  // namespace hb::models
