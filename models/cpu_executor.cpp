// The CPU reference executor: models/model.h's fp32 forward over mixed prefill/decode rows, and one host
// Sampler per sequence (its own seeded generator, so a request's draws do not depend on its batch mates).
#include <map>

#include "harness/base/error.h"
#include "models/step_executor.h"

namespace hb::models {
namespace {

class CpuExecutor : public StepExecutor {
 public:
  CpuExecutor(std::unique_ptr<Model> model, ModelOptions options) : model_(std::move(model)), options_(std::move(options)) {}

  const ModelConfig& config() const override { return model_->config(); }
  std::string source_dir() const override { return model_->source_dir(); }
  int64_t max_context() const override { return model_->config().max_position_embeddings; }
  int max_sequences() const override { return 0; }
  int64_t kv_capacity_tokens() const override { return 0; }
  int64_t prefill_chunk_tokens() const override { return 512; }

  int create_sequence(int64_t reserve_tokens, const SamplerConfig& sampling) override {
    auto sampler = std::make_unique<Sampler>(sampling);
    int seq = model_->create_sequence(reserve_tokens);
    samplers_[seq] = std::move(sampler);
    return seq;
  }

  void release_sequence(int seq) override {
    samplers_.erase(seq);
    model_->release_sequence(seq);
  }

  bool scores_prompts() const override { return true; }

  std::vector<SampledToken> step(const std::vector<StepRow>& rows) override {
    std::vector<SequenceInput> inputs;
    inputs.reserve(rows.size());
    bool all_logits = false;
    for (const auto& r : rows) {
      inputs.push_back({r.seq, r.tokens});
      all_logits = all_logits || r.score_top_k >= 0;
    }
    auto logits = model_->forward(inputs, all_logits);
    const size_t V = size_t(model_->config().vocab_size);
    std::vector<SampledToken> out;
    for (size_t i = 0; i < rows.size(); ++i) {
      const StepRow& r = rows[i];
      const size_t n = r.tokens.size();
      if (all_logits && logits[i].size() != n * V) throw Error(ErrorCode::internal, "step: logits of a wrong size");
      auto position = [&](size_t j) {
        return all_logits ? std::vector<float>(logits[i].begin() + std::ptrdiff_t(j * V), logits[i].begin() + std::ptrdiff_t((j + 1) * V))
                          : logits[i];
      };
      if (r.score_top_k >= 0) {
        for (size_t j = 0; j < n; ++j) {
          const int32_t next = j + 1 < n ? r.tokens[j + 1] : (r.sample ? -1 : r.next_token);
          if (next < 0) continue;
          const auto row = position(j);
          SampledToken t;
          t.id = next;
          t.logprob = token_logprob(row, next);
          t.top = top_logprobs(row, r.score_top_k);
          out.push_back(std::move(t));
        }
      }
      if (!r.sample) continue;
      auto it = samplers_.find(r.seq);
      if (it == samplers_.end()) throw Error(ErrorCode::internal, "step: sequence without a sampler");
      out.push_back(all_logits ? it->second->sample(position(n - 1), r.banned) : it->second->sample(logits[i], r.banned));
    }
    return out;
  }

  nlohmann::json details() const override {
    return {{"device", "cpu"},
            {"kernels", "cpu-reference"},
            {"compute_dtype", "fp32"},
            {"weights_dtype", model_->weights_dtype()},
            {"ssm_state_dtype", options_.ssm_state_dtype}};
  }

 private:
  std::unique_ptr<Model> model_;
  ModelOptions options_;
  std::map<int, std::unique_ptr<Sampler>> samplers_;
};

}  // namespace

std::unique_ptr<StepExecutor> make_cpu_executor(const std::string& spec, const ModelOptions& options) {
  return std::make_unique<CpuExecutor>(Model::load(spec, options), options);
}

}  // namespace hb::models
