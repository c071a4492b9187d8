#pragma once
// Layers removed for an experiment (leave-one-out layer importance, issue 16). drop_mixer: the layer's
// mixer (attention or m2) contributes zero and its MLP stays; drop_layer: the whole block is skipped, so the
// residual stream passes through unchanged. No LibTorch here: the native spec parser and the importance
// command use it too.
#include <string>
#include <vector>

namespace hb::models {

enum class LayerDrop { keep, mixer, layer };

struct LayerDrops {
  std::vector<int> mixer;  // layer indices whose mixer output is zero
  std::vector<int> layer;  // layer indices skipped entirely

  bool empty() const { return mixer.empty() && layer.empty(); }
  // "drop_mixer=12,30,drop_layer=4" (the spec form; "" when nothing is dropped).
  std::string spec_suffix() const;
  // One entry per layer. Call validate_layer_drops first.
  std::vector<LayerDrop> per_layer(int num_layers) const;
};

// "12,30" or ranges "12-14" -> indices in the order given. Throws Error{usage} naming `what` on a value that is
// not a non-negative integer or a range, and on an index given twice.
std::vector<int> parse_layer_indices(const std::string& list, const std::string& what);

// Throws Error{usage} (naming the index and the model) for an index outside [0, num_layers), an index given
// twice or in both lists, and a drop set that removes every layer's mixer (nothing would mix tokens).
void validate_layer_drops(const LayerDrops& drops, int num_layers, const std::string& model_name);

}  // namespace hb::models
