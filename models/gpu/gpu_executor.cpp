// The CUDA engine as a StepExecutor (see gpu_executor.h). Per step: the rows that still prefill run eagerly
// as one packed batch (GpuModel::prefill) and are sampled on the GPU; the decoding rows run as one CUDA-graph
// step of their batch bucket. The graph's static buffers (tokens, positions, slots, sampling parameters) are
// reloaded only when the decoding set changes (a sequence joins, finishes, or its banned ids change); between
// reloads each step feeds the GPU's own sampled ids back into itself, and the host reads those ids once.
#include "models/gpu/gpu_executor.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "harness/base/error.h"
#include "harness/base/strings.h"
#include "models/gpu/gpu_model.h"
#include "models/presets.h"

namespace hb::models::gpu {
namespace {

constexpr int64_t kDefaultMaxContext = 16384;

struct SeqState {
  int slot = -1;
  RowSampling sampling;  // banned: the ids banned in the loaded decode batch
  int top_logprobs = 0;
  int64_t position = 0;  // tokens in the cache
  bool decoding = false; // the prompt is in, and `last` was sampled by the GPU
  int64_t last = -1;
};

RowSampling row_sampling(const SamplerConfig& c) {
  RowSampling r;
  r.temperature = float(c.temperature);
  r.top_k = c.top_k;
  r.top_p = float(c.top_p);
  r.min_p = float(c.min_p);
  r.seed = int64_t(c.seed & 0x7fffffffffffffffULL);
  return r;
}

class GpuExecutor : public StepExecutor {
 public:
  explicit GpuExecutor(std::unique_ptr<GpuModel> model) : model_(std::move(model)) {}

  const ModelConfig& config() const override { return model_->config(); }
  std::string source_dir() const override { return source_dir_; }
  int64_t max_context() const override { return model_->plan().max_context; }
  int max_sequences() const override { return int(model_->plan().slots); }
  int64_t kv_capacity_tokens() const override { return model_->plan().slots * model_->plan().max_context; }
  // Prefill is one eager pass over packed rows: larger chunks amortise the per-layer launches.
  int64_t prefill_chunk_tokens() const override { return 4096; }

  void set_source_dir(std::string dir) { source_dir_ = std::move(dir); }

  int create_sequence(int64_t reserve_tokens, const SamplerConfig& sampling) override {
    if (reserve_tokens > max_context()) {
      throw Error(ErrorCode::usage, "a sequence of " + std::to_string(reserve_tokens) + " tokens does not fit the CUDA engine's slots of " +
                                        std::to_string(max_context()) + " tokens; raise context= in the native: spec");
    }
    validate(sampling);
    const int slot = model_->acquire_slot();
    if (slot < 0) throw Error(ErrorCode::internal, "no free GPU slot (admission should have waited)");
    const int seq = next_seq_++;
    SeqState s;
    s.slot = slot;
    s.sampling = row_sampling(sampling);
    s.top_logprobs = sampling.top_logprobs;
    seqs_[seq] = s;
    return seq;
  }

  void release_sequence(int seq) override {
    auto it = seqs_.find(seq);
    if (it == seqs_.end()) return;
    model_->release_slot(it->second.slot);
    seqs_.erase(it);
    batch_.clear();  // the decode batch changes
  }

  std::vector<SampledToken> step(const std::vector<StepRow>& rows) override {
    std::vector<size_t> prefill, decode;
    for (size_t i = 0; i < rows.size(); ++i) {
      const SeqState& s = state(rows[i].seq);
      const bool is_decode = s.decoding && rows[i].tokens.size() == 1 && rows[i].tokens[0] == s.last && rows[i].sample;
      (is_decode ? decode : prefill).push_back(i);
    }
    std::map<size_t, SampledToken> out;  // by row index
    if (!prefill.empty()) run_prefill(rows, prefill, out);
    if (!decode.empty()) run_decode(rows, decode, out);
    std::vector<SampledToken> result;
    for (size_t i = 0; i < rows.size(); ++i) {
      if (rows[i].sample) result.push_back(std::move(out.at(i)));
    }
    return result;
  }

  nlohmann::json details() const override {
    const auto& p = model_->plan();
    return {{"device", "cuda"},
            {"kernels", "cuda"},
            {"compute_dtype", "bf16"},
            {"weights_dtype", "bf16"},
            {"ssm_state_dtype", "fp32"},
            {"slots", p.slots},
            {"slot_tokens", p.max_context},
            {"memory_plan", p.describe()}};
  }

 private:
  SeqState& state(int seq) {
    auto it = seqs_.find(seq);
    if (it == seqs_.end()) throw Error(ErrorCode::internal, "step: unknown sequence " + std::to_string(seq));
    return it->second;
  }

  static SampledToken make_token(int64_t id, float logprob) {
    SampledToken t;
    t.id = int32_t(id);
    t.logprob = logprob;
    return t;
  }

  // The top_logprobs of one row of `logits` ([n, V] bf16 or fp32 on the GPU), computed on the host from the
  // raw row (bans shape the draw only).
  static std::vector<std::pair<int32_t, float>> top_of(const torch::Tensor& logits, int64_t row, int k) {
    auto h = logits[row].to(torch::kCPU, torch::kFloat32).contiguous();
    std::vector<float> v(h.data_ptr<float>(), h.data_ptr<float>() + h.numel());
    return top_logprobs(v, k);
  }

  void run_prefill(const std::vector<StepRow>& rows, const std::vector<size_t>& idx, std::map<size_t, SampledToken>& out) {
    std::vector<int> slots;
    std::vector<std::vector<int32_t>> tokens;
    std::vector<int64_t> starts;
    for (size_t i : idx) {
      SeqState& s = state(rows[i].seq);
      s.decoding = false;  // until this row's sample (if any) is the next decode input
      slots.push_back(s.slot);
      tokens.push_back(rows[i].tokens);
      starts.push_back(s.position);
    }
    auto logits = model_->prefill(slots, tokens, starts);  // [n, V] fp32
    std::vector<int64_t> pick, positions;
    std::vector<RowSampling> sampling;
    for (size_t j = 0; j < idx.size(); ++j) {
      SeqState& s = state(rows[idx[j]].seq);
      s.position += int64_t(rows[idx[j]].tokens.size());
      if (!rows[idx[j]].sample) continue;
      pick.push_back(int64_t(j));
      positions.push_back(s.position - 1);
      RowSampling r = s.sampling;
      r.banned = rows[idx[j]].banned;
      sampling.push_back(r);
    }
    if (pick.empty()) return;
    auto sel = logits.index_select(0, torch::tensor(pick, torch::kInt64).to(logits.device()));
    std::vector<float> lp;
    auto ids = model_->sample_rows(sel, sampling, positions, &lp);
    for (size_t k = 0; k < pick.size(); ++k) {
      const size_t i = idx[size_t(pick[k])];
      SeqState& s = state(rows[i].seq);
      SampledToken t = make_token(ids[k], lp[k]);
      if (s.top_logprobs > 0) t.top = top_of(sel, int64_t(k), s.top_logprobs);
      s.decoding = true;
      s.last = ids[k];
      out[i] = std::move(t);
    }
    batch_.clear();  // new decoders join
  }

  void run_decode(const std::vector<StepRow>& rows, const std::vector<size_t>& idx, std::map<size_t, SampledToken>& out) {
    std::vector<int> seqs;
    bool same = idx.size() == batch_.size();
    for (size_t k = 0; k < idx.size(); ++k) {
      const StepRow& r = rows[idx[k]];
      seqs.push_back(r.seq);
      if (same && (batch_[k] != r.seq || state(r.seq).sampling.banned != r.banned)) same = false;
    }
    if (!same) {
      std::vector<int> slots;
      std::vector<int64_t> tokens, positions;
      std::vector<RowSampling> sampling;
      for (size_t k = 0; k < idx.size(); ++k) {
        SeqState& s = state(seqs[k]);
        s.sampling.banned = rows[idx[k]].banned;
        slots.push_back(s.slot);
        tokens.push_back(s.last);
        positions.push_back(s.position);
        sampling.push_back(s.sampling);
      }
      model_->set_decode_batch(slots, tokens, positions, &sampling);
      batch_ = seqs;
    }
    auto logits = model_->decode_step();  // [bucket, V] bf16, valid until the next step
    std::vector<float> lp;
    auto ids = model_->read_sampled(&lp);
    for (size_t k = 0; k < idx.size(); ++k) {
      SeqState& s = state(seqs[k]);
      SampledToken t = make_token(ids[k], lp[k]);
      if (s.top_logprobs > 0) t.top = top_of(logits, int64_t(k), s.top_logprobs);
      s.position += 1;
      s.last = ids[k];
      out[idx[k]] = std::move(t);
    }
  }

  std::unique_ptr<GpuModel> model_;
  std::string source_dir_;
  std::map<int, SeqState> seqs_;
  std::vector<int> batch_;  // sequences loaded in the decode graph's buffers, in row order
  int next_seq_ = 0;
};

}  // namespace

bool cuda_device_available() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();
    return false;
  }
  return n > 0;
}

std::unique_ptr<StepExecutor> make_gpu_executor(const std::string& spec, const ModelOptions& options, int max_sequences) {
  if (options.ssm_state_dtype != "fp32") {
    throw Error(ErrorCode::usage, "the CUDA engine keeps the SSM state in fp32; ssm_state_dtype '" + options.ssm_state_dtype +
                                      "' is available on device=cpu only");
  }
  if (options.context < 0) throw Error(ErrorCode::usage, "context must be positive, got " + std::to_string(options.context));
  if (!(options.gpu_reserve_gib >= 0)) throw Error(ErrorCode::usage, "reserve_gib must be >= 0");
  GpuOptions go;
  go.reserve_gib = options.gpu_reserve_gib;
  go.max_slots = options.gpu_max_sequences > 0 ? options.gpu_max_sequences : std::max(1, max_sequences);
  // The slot size: the given context, else the model's (at most 16k tokens: every slot reserves it).
  go.max_context = options.context;
  go.drops = options.drops;
  if (go.max_context == 0) {
    const ModelConfig c = starts_with(spec, "preset:") ? preset_config(spec.substr(7)) : load_model_config(spec);
    go.max_context = std::min<int64_t>(c.max_position_embeddings, kDefaultMaxContext);
  }
  auto model = GpuModel::load(spec, go);
  auto ex = std::make_unique<GpuExecutor>(std::move(model));
  if (!starts_with(spec, "preset:")) ex->set_source_dir(spec);
  return ex;
}

}  // namespace hb::models::gpu
