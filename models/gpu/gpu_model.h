#pragma once
// Engine-internal (LibTorch + CUDA; built only when HYBENCH_HAVE_CUDA). The batched GPU path of the native
// engine (issue #6):
//   * bf16 weights on the GPU, fused where one GEMM can serve several projections (q|k|v, gate|up,
//     m2 in_proj|dt_in_proj); fp32 residual stream;
//   * a slot-based KV pool for the attention layers only ([A][slots, Hkv, max_ctx, HD] bf16) and conv
//     window + fp32 SSM state slots for the m2 layers; a slot is a reservation of max_ctx tokens, so
//     admission by reservation never preempts;
//   * a memory plan from the GPU's free memory after the weights, minus a stated reserve;
//   * decode steps as CUDA graphs per batch bucket (static token / position / slot buffers; sampling on the
//     GPU writes the next tokens back into the token buffer; the host only reads the sampled ids);
//   * prefill (and chunked prefill from a saved state) eagerly over packed varlen rows: SDPA per sequence,
//     the m2 varlen scan kernel.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "models/layer_drops.h"
#include "models/model_config.h"

namespace hb::models::gpu {

struct GpuOptions {
  int64_t max_context = 4096;  // tokens per slot (prompt + generated), fixed for the pool
  int max_slots = 0;           // 0: as many as fit
  double reserve_gib = 4.0;    // kept free for activations, cuBLAS workspaces, graphs, logits
  double temperature = 0.0;    // <= 0: greedy
  uint64_t seed = 1234;
  bool use_graphs = true;
  LayerDrops drops;            // layers removed for an experiment (validated at load)
};

// Sampling of one decode row (greedy when temperature <= 0); `banned` ids get probability 0 (at most
// GpuModel::kMaxBanned of them).
struct RowSampling {
  float temperature = 0.f, top_p = 1.f, min_p = 0.f;
  int top_k = -1;
  int64_t seed = 0;
  std::vector<int32_t> banned;
};

struct MemoryPlan {
  int64_t total_bytes = 0, free_after_weights = 0, weight_bytes = 0, reserve_bytes = 0;
  int64_t kv_bytes_per_slot = 0, state_bytes_per_slot = 0;
  int64_t max_context = 0, slots = 0;
  std::string describe() const;
};

class GpuModel {
 public:
  // spec: a checkpoint directory or preset:NAME. Small presets / checkpoints go through the CPU loader
  // (same weights as the CPU reference); presets over 1B parameters are drawn directly on the GPU.
  static std::unique_ptr<GpuModel> load(const std::string& spec, const GpuOptions& options);
  ~GpuModel();

  const ModelConfig& config() const;
  const MemoryPlan& plan() const;
  int free_slots() const;
  int acquire_slot();  // -1 when none is free (admission by reservation)
  void release_slot(int slot);
  void reset_slot(int slot);  // zero conv window + SSM state (a fresh sequence)

  // Prefill (or chunked prefill) of several sequences at once: tokens of sequence i continue slot slots[i]
  // from position starts[i]. Returns the last row's logits per sequence, [n, V] fp32 on the GPU; with
  // all_rows, every row's logits in packed order, [sum of tokens, V] fp32.
  torch::Tensor prefill(const std::vector<int>& slots, const std::vector<std::vector<int32_t>>& tokens,
                        const std::vector<int64_t>& starts, bool all_rows = false);

  // Replaces the dropped layers (Error{usage} on a bad set) and forgets the captured decode graphs, which
  // bake the layer loop in. A dropped mixer neither reads nor writes its cache: change drops between fresh
  // sequences only.
  void set_layer_drops(const LayerDrops& drops);

  // Decode: load B rows (slot, token, position, sampling; no sampling: options' temperature and seed for
  // every row); each step appends the token at its position, samples the next token into the token buffer
  // and advances the positions (padding rows: slot -1).
  static constexpr int kMaxBanned = 8;
  void set_decode_batch(const std::vector<int>& slots, const std::vector<int64_t>& tokens, const std::vector<int64_t>& positions,
                        const std::vector<RowSampling>* sampling = nullptr);
  // One step over the loaded rows (graph replay of the bucket when enabled). Returns the bucket's logits
  // [bucket, V] bf16 (valid until the next step).
  torch::Tensor decode_step();
  torch::Tensor sampled_tokens() const;  // [bucket] int64 on the GPU (next inputs)
  // Copies the current batch's sampled ids (and their log-probabilities) to the host: one synchronisation.
  std::vector<int64_t> read_sampled(std::vector<float>* logprobs = nullptr);
  // Samples rows of `logits` [n, V] (prefill's) with per-row parameters, eagerly: ids and log-probabilities.
  // positions[i]: the position of row i's last token (with the seed, it picks the row's random stream, as in
  // the decode graphs).
  std::vector<int64_t> sample_rows(const torch::Tensor& logits, const std::vector<RowSampling>& sampling,
                                   const std::vector<int64_t>& positions, std::vector<float>* logprobs);
  int bucket() const;
  int decode_rows() const;
  static int bucket_for(int rows);

  // Benchmark helpers: fill every KV row and state slot with random values (so a long context costs no
  // long run), and set every loaded row's position.
  void fill_random_cache(uint64_t seed);
  void set_positions(int64_t position);
  int64_t kv_pool_bytes() const;
  int64_t state_pool_bytes() const;

  struct Impl;

 private:
  explicit GpuModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Bytes one decode step must move at batch b and context t (weights once + KV of every sequence + SSM/conv
// state read and written): the roofline numerator used by `bench engine`.
double decode_step_bytes(const ModelConfig& c, int64_t batch, int64_t context);

}  // namespace hb::models::gpu
