#include "harness/backends/native_backend.h"

#include <atomic>
#include <cmath>
#include <cstdlib>
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
    info.details = engine_->executor().details();
    info.details["engine"] = "hybench-native";
    info.details["layout"] = c.layout_string();
    info.details["attention_layers"] = c.attention_layers();
    info.details["mamba_layers"] = c.mamba_layers();
    info.details["params"] = c.params();
    info.details["vocab_size"] = c.vocab_size;
    info.details["max_batch"] = engine_->options().max_batch;
    info.details["max_context"] = engine_->max_context();
    info.details["tokenizer"] = engine_->tokenizer().kind();
    info.details["chat_format"] = models::chat_format_name(engine_->chat_format());
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

// Engine options travel with the spec, so every command (eval, sweep, serve, run, studies) gets them
// without flags of its own.
NativeSpec parse_native_spec(const std::string& spec, NativeOptions options) {
  NativeSpec p;
  p.options = std::move(options);
  auto parts = split(spec, ',');
  p.target = parts.empty() ? "" : std::string(trim(parts[0]));
  static const std::vector<std::string> keys = {"device", "context", "reserve_gib", "slots", "threads", "ssm_state_dtype",
                                                "drop_mixer", "drop_layer"};
  // drop_mixer=12,30 lists layers with the same comma that separates options: a bare index or range after
  // a drop key continues its list.
  std::vector<std::string> merged;
  bool in_drop_list = false;
  for (size_t i = 1; i < parts.size(); ++i) {
    std::string kv(trim(parts[i]));
    const bool bare_index = !kv.empty() && kv.find('=') == std::string::npos &&
                            kv.find_first_not_of("0123456789-") == std::string::npos;
    if (in_drop_list && bare_index) {
      merged.back() += "," + kv;
      continue;
    }
    in_drop_list = starts_with(kv, "drop_mixer=") || starts_with(kv, "drop_layer=");
    merged.push_back(kv);
  }
  for (const auto& kv : merged) {
    if (kv.empty()) continue;
    auto eq = kv.find('=');
    std::string key = eq == std::string::npos ? kv : kv.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : kv.substr(eq + 1);
    auto bad = [&](const std::string& what) {
      return Error(ErrorCode::usage, "native:" + spec + ": " + key + "=" + value + " " + what);
    };
    auto number = [&](double lo) {
      char* end = nullptr;
      const double v = std::strtod(value.c_str(), &end);
      if (end == value.c_str() || *end != '\0' || !(v >= lo) || !std::isfinite(v)) {
        throw bad("must be a number >= " + std::to_string(int(lo)));
      }
      return v;
    };
    if (eq == std::string::npos || value.empty()) {
      std::string hint = did_you_mean(key, keys);
      throw Error(ErrorCode::usage, "native:" + spec + ": option '" + kv + "' needs key=value (" + join(keys, ", ") + ")" +
                                        (hint.empty() ? "" : "; " + hint));
    }
    if (key == "device") {
      if (value != "cpu" && value != "cuda" && value != "auto") throw bad("is not cpu, cuda or auto");
      p.options.device = value;
    } else if (key == "context") {
      p.options.context = (long long)number(2);
    } else if (key == "reserve_gib") {
      p.options.gpu_reserve_gib = number(0);
    } else if (key == "slots") {
      p.options.gpu_max_sequences = int(number(1));
    } else if (key == "threads") {
      p.options.threads = int(number(0));
    } else if (key == "ssm_state_dtype") {
      if (value != "fp32" && value != "bf16") throw bad("is not fp32 or bf16");
      p.options.ssm_state_dtype = value;
    } else if (key == "drop_mixer" || key == "drop_layer") {
      auto& list = key == "drop_mixer" ? p.options.drops.mixer : p.options.drops.layer;
      if (!list.empty()) throw bad("repeats the key; give every index in one list, e.g. " + key + "=12,30");
      list = models::parse_layer_indices(value, "native:" + spec + ": " + key);
    } else {
      std::string hint = did_you_mean(key, keys);
      throw Error(ErrorCode::usage, "native:" + spec + ": unknown option '" + key + "'" + (hint.empty() ? "" : "; " + hint) +
                                        "; options: " + join(keys, ", "));
    }
  }
  if (p.target.empty()) throw Error(ErrorCode::usage, "native backend needs a checkpoint directory or preset:NAME after 'native:'");
  return p;
}

std::unique_ptr<models::Engine> make_native_engine(const NativeSpec& spec) {
  const NativeOptions& options = spec.options;
  models::ModelOptions mo;
  mo.device = options.device.empty() ? "auto" : options.device;
  mo.threads = options.threads;
  mo.ssm_state_dtype = options.ssm_state_dtype;
  mo.context = options.context;
  mo.gpu_reserve_gib = options.gpu_reserve_gib;
  mo.gpu_max_sequences = options.gpu_max_sequences;
  mo.drops = options.drops;
  models::EngineOptions eo;
  eo.max_batch = std::max(1, options.max_in_flight);
  if (options.kv_budget_tokens > 0) eo.kv_budget_tokens = options.kv_budget_tokens;
  return models::make_engine(spec.target, eo, mo);
}

std::unique_ptr<Backend> make_native_backend(const std::string& spec, const NativeOptions& given) {
  if (spec.empty()) throw Error(ErrorCode::usage, "native backend needs a checkpoint directory or preset:NAME after 'native:'");
  NativeSpec parsed = parse_native_spec(spec, given);
  const NativeOptions& options = parsed.options;
  auto engine = make_native_engine(parsed);
  std::string name = options.model_name;
  if (name.empty()) {
    const std::string& t = parsed.target;
    if (starts_with(t, "preset:")) {
      name = t.substr(7);
    } else {
      std::string s = t;
      while (!s.empty() && s.back() == '/') s.pop_back();
      name = s.substr(s.find_last_of('/') + 1);
    }
  }
  return std::make_unique<NativeBackend>(spec, std::move(engine), name);
}

}  // namespace hb
