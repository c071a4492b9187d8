// SequenceLogits on the CPU reference (models/model.h) and, in CUDA builds, on GpuModel's packed prefill.
#include "models/sequence_logits.h"

#include <torch/torch.h>

#include "harness/base/error.h"
#include "harness/base/files.h"
#include "harness/base/strings.h"
#include "models/engine_module.h"
#ifdef HYBENCH_HAVE_CUDA
#include "models/gpu/gpu_executor.h"
#include "models/gpu/gpu_model.h"
#endif

namespace hb::models {
namespace {

// The device-independent part: batching, the full model's distributions once per batch, KL per sequence.
class TorchLogits : public SequenceLogits {
 public:
  void set_layer_drops(const LayerDrops& drops) override {
    apply_drops(drops);
    drops_ = drops;
  }

  std::vector<std::vector<float>> logits(const std::vector<std::vector<int32_t>>& sequences) override {
    torch::NoGradGuard ng;
    std::vector<std::vector<float>> out;
    for (size_t b = 0; b < sequences.size(); b += size_t(batch_sequences())) {
      std::vector<std::vector<int32_t>> batch(sequences.begin() + long(b),
                                              sequences.begin() + long(std::min(sequences.size(), b + size_t(batch_sequences()))));
      auto all = forward_packed(batch).to(torch::kCPU, torch::kFloat32).contiguous();
      int64_t row = 0;
      const int64_t V = config().vocab_size;
      for (const auto& s : batch) {
        const float* p = all.data_ptr<float>() + row * V;
        out.emplace_back(p, p + int64_t(s.size()) * V);
        row += int64_t(s.size());
      }
    }
    return out;
  }

  std::vector<std::vector<double>> kl_per_sequence(const std::vector<std::vector<int32_t>>& sequences,
                                                   const std::vector<LayerDrops>& variants,
                                                   const std::function<void(size_t, size_t)>& progress) override {
    torch::NoGradGuard ng;
    for (const auto& s : sequences)
      if (s.empty()) throw Error(ErrorCode::usage, "KL: a token sequence is empty; every sequence needs at least one token");
    for (const auto& v : variants) validate_layer_drops(v, config().num_layers(), "'" + config().name + "'");
    std::vector<std::vector<double>> result(variants.size(), std::vector<double>(sequences.size(), 0.0));
    const size_t per = size_t(batch_sequences());
    const size_t batches = (sequences.size() + per - 1) / per;
    const size_t total = batches * (variants.size() + 1);
    size_t done = 0;
    const LayerDrops full = drops_;
    struct Restore {
      TorchLogits* self;
      LayerDrops drops;
      ~Restore() {
        try {
          self->apply_drops(drops);
        } catch (...) {
        }
      }
    } restore{this, full};
    for (size_t b0 = 0; b0 < sequences.size(); b0 += per) {
      const size_t b1 = std::min(sequences.size(), b0 + per);
      std::vector<std::vector<int32_t>> batch(sequences.begin() + long(b0), sequences.begin() + long(b1));
      apply_drops(full);
      // The full model's log-probabilities and probabilities of this batch, kept on the device.
      auto ref_logp = torch::log_softmax(forward_packed(batch).to(torch::kFloat32), -1);
      auto ref_p = ref_logp.exp();
      if (progress) progress(++done, total);
      for (size_t v = 0; v < variants.size(); ++v) {
        apply_drops(variants[v]);
        auto logits = forward_packed(batch);
        std::vector<torch::Tensor> per_seq;
        int64_t row = 0;
        for (const auto& s : batch) {
          const int64_t n = int64_t(s.size());
          auto lp = ref_logp.narrow(0, row, n);
          auto p = ref_p.narrow(0, row, n);
          auto lq = torch::log_softmax(logits.narrow(0, row, n).to(torch::kFloat32), -1);
          // sum p (log p - log q) per row, both sums in the same shape and order, so identical
          // distributions give exactly 0.
          per_seq.push_back(((p * lp).sum(-1) - (p * lq).sum(-1)).to(torch::kFloat64).mean());
          row += n;
        }
        auto host = torch::stack(per_seq).to(torch::kCPU).contiguous();
        for (size_t i = 0; i < batch.size(); ++i) result[v][b0 + i] = host.data_ptr<double>()[i];
        if (progress) progress(++done, total);
      }
    }
    return result;
  }

 protected:
  // [sum of tokens, V] logits of the sequences (packed in order) on the model's device.
  virtual torch::Tensor forward_packed(const std::vector<std::vector<int32_t>>& batch) = 0;
  virtual void apply_drops(const LayerDrops& drops) = 0;
  LayerDrops drops_;
};

class CpuLogits : public TorchLogits {
 public:
  CpuLogits(std::unique_ptr<Model> model, int batch, const LayerDrops& drops) : model_(std::move(model)), batch_(batch) {
    drops_ = drops;
    init_tokenizer(model_->source_dir());
  }
  const ModelConfig& config() const override { return model_->config(); }
  std::string device() const override { return "cpu"; }
  int batch_sequences() const override { return batch_; }

 protected:
  void apply_drops(const LayerDrops& drops) override { model_->set_layer_drops(drops); }

  torch::Tensor forward_packed(const std::vector<std::vector<int32_t>>& batch) override {
    std::vector<SequenceInput> inputs;
    struct Release {
      Model& m;
      std::vector<int> seqs;
      ~Release() {
        for (int s : seqs) m.release_sequence(s);
      }
    } rel{*model_, {}};
    for (const auto& s : batch) {
      rel.seqs.push_back(model_->create_sequence(int64_t(s.size())));
      inputs.push_back({rel.seqs.back(), s});
    }
    auto out = model_->forward(inputs, /*all_logits=*/true);
    std::vector<torch::Tensor> parts;
    const int64_t V = config().vocab_size;
    for (auto& o : out) parts.push_back(torch::from_blob(o.data(), {int64_t(o.size()) / V, V}, torch::kFloat32).clone());
    return torch::cat(parts, 0);
  }

 private:
  std::unique_ptr<Model> model_;
  int batch_;
};

#ifdef HYBENCH_HAVE_CUDA
class GpuLogits : public TorchLogits {
 public:
  GpuLogits(std::unique_ptr<gpu::GpuModel> model, const std::string& spec, const LayerDrops& drops)
      : model_(std::move(model)) {
    drops_ = drops;
    init_tokenizer(starts_with(spec, "preset:") ? "" : spec);
  }
  const ModelConfig& config() const override { return model_->config(); }
  std::string device() const override { return "cuda"; }
  int batch_sequences() const override { return int(model_->plan().slots); }

 protected:
  void apply_drops(const LayerDrops& drops) override { model_->set_layer_drops(drops); }

  torch::Tensor forward_packed(const std::vector<std::vector<int32_t>>& batch) override {
    std::vector<int> slots;
    struct Release {
      gpu::GpuModel& m;
      std::vector<int>& slots;
      ~Release() {
        for (int s : slots) m.release_slot(s);
      }
    } rel{*model_, slots};
    for (size_t i = 0; i < batch.size(); ++i) {
      int s = model_->acquire_slot();  // zeroes its conv window and SSM state
      if (s < 0) throw Error(ErrorCode::internal, "SequenceLogits: more sequences in a batch than GPU slots");
      slots.push_back(s);
    }
    return model_->prefill(slots, batch, std::vector<int64_t>(batch.size(), 0), /*all_rows=*/true);
  }

 private:
  std::unique_ptr<gpu::GpuModel> model_;
};
#endif

}  // namespace

std::unique_ptr<SequenceLogits> load_sequence_logits_on_device(const std::string& spec, const ModelOptions& options) {
  const std::string device = resolve_engine_device(options.device);  // "cuda" only in CUDA builds
#ifdef HYBENCH_HAVE_CUDA
  if (device == "cuda") {
    gpu::GpuOptions go;
    go.max_context = options.context > 0 ? options.context : 4096;
    go.max_slots = options.gpu_max_sequences > 0 ? options.gpu_max_sequences : 8;
    go.reserve_gib = options.gpu_reserve_gib;
    go.use_graphs = false;
    go.drops = options.drops;
    return std::make_unique<GpuLogits>(gpu::GpuModel::load(spec, go), spec, options.drops);
  }
#endif
  ModelOptions cpu = options;
  cpu.device = "cpu";
  const int batch = options.gpu_max_sequences > 0 ? options.gpu_max_sequences : 8;
  return std::make_unique<CpuLogits>(Model::load(spec, cpu), batch, options.drops);
}

}  // namespace hb::models
