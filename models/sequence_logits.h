#pragma once
// Full-vocabulary logits of whole token sequences in one batched forward pass each (no generation, no cache
// kept), on the CPU reference or the CUDA engine, with layer drops switchable between calls. The
// layer-importance KL sweep (issue 16) runs on it: the full model's next-token distributions are computed
// once per batch and compared with every variant's on the device, so no full-vocabulary tensor crosses to
// the host. No LibTorch in this header.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/chat_template.h"
#include "models/layer_drops.h"
#include "models/model.h"
#include "models/model_config.h"

namespace hb::models {

class SequenceLogits {
 public:
  // spec: checkpoint directory or preset:NAME. options.device: cpu | cuda | auto (cuda when this build has it
  // and a GPU is visible). On the GPU, options.context is the longest sequence and options.gpu_max_sequences
  // the sequences per forward pass. options.drops are the starting drops.
  static std::unique_ptr<SequenceLogits> load(const std::string& spec, const ModelOptions& options);
  virtual ~SequenceLogits() = default;

  virtual const ModelConfig& config() const = 0;
  virtual std::string device() const = 0;  // "cpu" or "cuda"
  // Sequences per forward pass (the CPU path: all of them in one pass).
  virtual int batch_sequences() const = 0;
  // Validated (Error{usage} on a bad set); applies to the next calls.
  virtual void set_layer_drops(const LayerDrops& drops) = 0;

  // Per sequence, tokens x vocab floats in row order (row t: the distribution of the token after position t).
  virtual std::vector<std::vector<float>> logits(const std::vector<std::vector<int32_t>>& sequences) = 0;

  // result[v][s]: the mean over positions of sequence s of KL(full || variant v), in nats, where "full" is the
  // model with the drops set at that moment and variant v replaces them by variants[v]. progress(done, total)
  // is called after each forward pass. The drops are restored on return.
  virtual std::vector<std::vector<double>> kl_per_sequence(const std::vector<std::vector<int32_t>>& sequences,
                                                           const std::vector<LayerDrops>& variants,
                                                           const std::function<void(size_t, size_t)>& progress = {}) = 0;

  // Tokenization as the engine does it: the checkpoint's tokenizer.json (byte-level for presets), its chat
  // format, exactly one BOS.
  std::vector<int32_t> encode_text(const std::string& text) const;
  std::vector<int32_t> encode_chat(const std::vector<ChatTurn>& turns) const;
  // Text appended to a chat prompt (a completion): no BOS, no special-token parsing.
  std::vector<int32_t> encode_continuation(const std::string& text) const;

 protected:
  void init_tokenizer(const std::string& source_dir);
  std::unique_ptr<Tokenizer> tokenizer_;
  ChatFormat chat_format_ = ChatFormat::plain;
};

// The LibTorch implementation behind load() (models/sequence_logits.cpp, in the engine module): callers use
// SequenceLogits::load.
std::unique_ptr<SequenceLogits> load_sequence_logits_on_device(const std::string& spec, const ModelOptions& options);
// Also the engine module's: "cpu" or "cuda" for a requested device (cpu | cuda | auto | ""), or Error{usage} /
// Error{config} when it is not a device or not available in this build.
std::string resolve_engine_device(const std::string& requested);

}  // namespace hb::models
