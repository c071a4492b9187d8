#include "harness/backends/native_backend.h"

#include <atomic>
#include <mutex>
#include <random>
#include <set>

#include "harness/base/clock.h"
#include "harness/base/error.h"
#include "harness/base/strings.h"
#include "models/engine.h"

namespace hb {
namespace {

class NativeBackend : public Backend {
 public:
  NativeBackend(std::string spec, std::unique_ptr<models::Engine> engine, std::string name)
      : spec_(std::move(spec)), engine_(std::move(engine)), name_(std::move(name)) {}

  ~NativeBackend() override { engine_.reset(); }

  BackendInfo describe() const override {
    const auto& c = engine_->config();
    BackendInfo info;
    info.kind = "native";
    info.spec = "native:" + spec_;
    info.model_name = name_;
    info.details = {{"engine", "hybench-native"},
                    {"device", "cpu"},
                    {"kernels", "cpu-reference"},
                    {"compute_dtype", "fp32"},
                    {"layout", c.layout_string()},
                    {"attention_layers", c.attention_layers()},
                    {"mamba_layers", c.mamba_layers()},
                    {"params", c.params()},
                    {"vocab_size", c.vocab_size},
                    {"tokenizer", engine_->tokenizer().kind()},
                    {"chat_format", models::chat_format_name(engine_->chat_format())}};
    return info;
  }

  void submit(GenerationRequest request, ResultCallback done) override {
    const int64_t submit_ns = monotonic_ns();
    models::EngineRequest r;
    r.id = request.id;
    r.submit_ns = submit_ns;
    try {
      if (!request.prompt_token_ids.empty()) {
        const int vocab = engine_->config().vocab_size;
        for (int32_t id : request.prompt_token_ids)
          if (id < 0 || id >= vocab)
            throw Error(ErrorCode::usage, "prompt token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                                              std::to_string(vocab) + ")");
        r.prompt = request.prompt_token_ids;
      } else if (request.prompt) {
        r.prompt = engine_->encode_prompt(*request.prompt);
      } else {
        std::vector<models::ChatTurn> turns;
        for (const auto& m : request.messages) turns.push_back({m.role, m.content});
        r.prompt = engine_->encode_chat(turns);
        for (const auto& s : models::chat_stop_strings(engine_->chat_format())) r.stop.push_back(s);
      }
      const auto& s = request.sampling;
      r.sampling.temperature = s.temperature;
      r.sampling.top_p = s.top_p;
      r.sampling.top_k = s.top_k;
      r.sampling.min_p = s.min_p;
      r.sampling.seed = s.seed ? *s.seed : std::random_device{}();
      r.sampling.top_logprobs = s.top_logprobs;
      r.max_tokens = s.max_tokens;
      r.min_tokens = s.min_tokens.value_or(0);
      r.ignore_eos = s.ignore_eos;
      for (const auto& st : s.stop) r.stop.push_back(st);
    } catch (const Error& e) {
      fail(std::move(done), submit_ns, "bad_request", e.message());
      return;
    }
    auto shared_done = std::make_shared<ResultCallback>(std::move(done));
    r.on_done = [this, shared_done](models::EngineResult er) {
      GenerationResult g;
      g.content = er.text;
      g.finish_reason = er.finish_reason == "error" || er.finish_reason == "cancelled" ? "" : er.finish_reason;
      g.usage.prompt_tokens = er.prompt_tokens;
      g.usage.completion_tokens = int64_t(er.tokens.size());
      g.client_completion_tokens = int64_t(er.tokens.size());
      g.submit_ns = er.submit_ns;
      g.send_ns = er.admit_ns;
      g.first_byte_ns = er.first_token_ns;
      g.first_token_ns = er.first_token_ns;
      g.first_content_ns = er.first_token_ns;
      g.end_ns = er.end_ns;
      g.attempts = 1;
      g.endpoint = "native";
      for (auto t : er.token_ns) g.chunks.push_back({t, 1, false});
      if (er.finish_reason == "cancelled") g.error = ErrorInfo{"cancelled", "request cancelled"};
      if (er.finish_reason == "error") g.error = ErrorInfo{"engine", er.error};
      (*shared_done)(std::move(g));
    };
    try {
      engine_->submit(std::move(r));
    } catch (const Error& e) {
      fail(std::move(*shared_done), submit_ns, "bad_request", e.message());
    }
  }

  void cancel_all() override { engine_->cancel_all(); }

 private:
  static void fail(ResultCallback done, int64_t submit_ns, const std::string& kind, const std::string& message) {
    GenerationResult g;
    g.submit_ns = submit_ns;
    g.end_ns = monotonic_ns();
    g.error = ErrorInfo{kind, message};
    done(std::move(g));
  }

  std::string spec_;
  std::unique_ptr<models::Engine> engine_;
  std::string name_;
};

}  // namespace

std::unique_ptr<Backend> make_native_backend(const std::string& spec, const NativeOptions& options) {
  if (spec.empty()) throw Error(ErrorCode::usage, "native backend needs a checkpoint directory or preset:NAME after 'native:'");
  models::ModelOptions mo;
  mo.device = options.device.empty() ? "cpu" : options.device;
  mo.threads = options.threads;
  mo.ssm_state_dtype = options.ssm_state_dtype;
  models::EngineOptions eo;
  eo.max_batch = std::max(1, options.max_in_flight);
  if (options.kv_budget_tokens > 0) eo.kv_budget_tokens = options.kv_budget_tokens;
  auto engine = models::make_engine(spec, eo, mo);
  std::string name = options.model_name;
  if (name.empty()) {
    if (starts_with(spec, "preset:")) {
      name = spec.substr(7);
    } else {
      std::string s = spec;
      while (!s.empty() && s.back() == '/') s.pop_back();
      name = s.substr(s.find_last_of('/') + 1);
    }
  }
  return std::make_unique<NativeBackend>(spec, std::move(engine), name);
}

}  // namespace hb
