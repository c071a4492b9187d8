#pragma once
// The native hybrid model (Mistral/Llama teacher and Apriel-H1 attention + m2 hybrids) with its hybrid
// cache. LibTorch stays behind the pimpl: this header is safe for non-engine code.
//
// A sequence is a handle into the cache. forward() appends tokens to any number of sequences at once
// (prefill chunks and single decode tokens mixed; no padding) and returns next-token logits.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/layer_drops.h"
#include "models/model_config.h"

namespace hb::models {

struct ModelOptions {
  // "cpu" (the fp32 reference path), "cuda" (the CUDA engine, models/gpu/), "auto" (cuda when this build has
  // the CUDA engine and a device is visible). Model::load itself is the CPU path; models/engine_factory.cpp
  // dispatches.
  std::string device = "cpu";
  std::string ssm_state_dtype = "fp32";  // "fp32" (default) or "bf16" (bf16: CPU path only)
  // CUDA engine: tokens per sequence slot (prompt + generated; 0: the model's context, at most 16384), GPU
  // memory kept free, and a cap on the slots (0: as many as fit).
  int64_t context = 0;
  double gpu_reserve_gib = 4.0;
  int gpu_max_sequences = 0;
  // Intra-op threads. 1 by default on the CPU path: tiny models are op-overhead bound, Debian's reference
  // BLAS is single-threaded, and extra OpenMP threads only spin on shared cores. 0: LibTorch's default.
  int threads = 1;
  // Layers removed for an experiment (drop_mixer= / drop_layer= in the native spec); checked at load.
  LayerDrops drops;
};

struct SequenceInput {
  int seq = -1;
  std::vector<int32_t> tokens;
};

class Model {
 public:
  // spec: a Hugging Face checkpoint directory, or "preset:NAME" (random weights, seeded).
  static std::unique_ptr<Model> load(const std::string& spec, const ModelOptions& options = {});
  ~Model();

  const ModelConfig& config() const;
  const std::string& source_dir() const;  // "" for presets
  std::string weights_dtype() const;      // dtype of the checkpoint on disk ("random" for presets)

  int create_sequence(int64_t reserve_tokens);  // KV rows reserved for the whole life of the sequence
  void release_sequence(int seq);
  void reset_sequence(int seq);                 // empty again: length 0, zero conv/SSM state
  int64_t sequence_length(int seq) const;
  int64_t reserved_tokens() const;

  // Appends each input's tokens to its sequence. Returns, per input, the logits of its last token
  // (vocab_size floats); with all_logits, every token's logits concatenated (tokens * vocab_size).
  std::vector<std::vector<float>> forward(const std::vector<SequenceInput>& batch, bool all_logits = false);

  // Replaces the dropped layers (validated; Error{usage} on a bad set). A dropped mixer neither reads nor
  // writes its cache, so change drops only between fresh sequences.
  void set_layer_drops(const LayerDrops& drops);

  struct Impl;

 private:
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hb::models
