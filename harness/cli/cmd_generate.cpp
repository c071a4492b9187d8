// hybench generate --model SPEC --prompt TEXT: one generation on the native engine, streamed to stdout
// (or one JSON object with ids, timings and logprobs).
#include <cstdio>
#include <future>

#include <nlohmann/json.hpp>

#include "harness/base/clock.h"
#include "harness/base/console.h"
#include "harness/base/error.h"
#include "harness/base/strings.h"
#include "harness/cli/commands.h"
#ifdef HYBENCH_HAVE_ENGINE
#include "harness/backends/native_backend.h"
#include "models/engine.h"
#endif

namespace hb::cli {
namespace {

struct GenerateArgs {
  std::string model, prompt, system;
  bool chat = false, json = false, ignore_eos = false;
  int max_tokens = 128, top_k = -1, logprobs = 0, threads = 1;
  double temperature = 0.0, top_p = 1.0, min_p = 0.0;
  long long seed = 0;
  std::vector<std::string> stop;
};

#ifdef HYBENCH_HAVE_ENGINE
int run_generate(const GenerateArgs& a) {
  std::string spec = a.model;
  if (starts_with(spec, "native:")) spec = spec.substr(7);
  if (starts_with(spec, "openai:")) throw Error(ErrorCode::usage, "generate runs the native engine; use native:PATH or native:preset:NAME");
  NativeOptions defaults;
  defaults.threads = a.threads;
  auto engine = make_native_engine(parse_native_spec(spec, defaults));
  models::EngineRequest r;
  r.id = "generate";
  if (a.chat) {
    std::vector<models::ChatTurn> turns;
    if (!a.system.empty()) turns.push_back({"system", a.system});
    turns.push_back({"user", a.prompt});
    r.prompt = engine->encode_chat(turns);
    r.stop = models::chat_stop_strings(engine->chat_format());
  } else {
    r.prompt = engine->encode_prompt(a.prompt);
  }
  for (const auto& s : a.stop) r.stop.push_back(s);
  r.max_tokens = a.max_tokens;
  r.ignore_eos = a.ignore_eos;
  r.sampling.temperature = a.temperature;
  r.sampling.top_p = a.top_p;
  r.sampling.top_k = a.top_k;
  r.sampling.min_p = a.min_p;
  r.sampling.seed = uint64_t(a.seed);
  r.sampling.top_logprobs = a.logprobs;
  if (!a.json) {
    r.on_token = [](const models::TokenEvent& ev) {
      if (!ev.text.empty()) {
        std::fwrite(ev.text.data(), 1, ev.text.size(), stdout);
        std::fflush(stdout);
      }
    };
  }
  std::promise<models::EngineResult> done;
  r.on_done = [&done](models::EngineResult res) { done.set_value(std::move(res)); };
  engine->submit(std::move(r));
  auto res = done.get_future().get();
  if (res.finish_reason == "error") throw Error(ErrorCode::model, "generation failed: " + res.error);
  double ttft_ms = (res.first_token_ns - res.submit_ns) / 1e6;
  double decode_s = res.token_ns.size() > 1 ? (res.token_ns.back() - res.token_ns.front()) / 1e9 : 0.0;
  double decode_tps = decode_s > 0 ? double(res.token_ns.size() - 1) / decode_s : 0.0;
  if (a.json) {
    const auto& tok = engine->tokenizer();
    nlohmann::json lp = nlohmann::json::array();
    for (size_t i = 0; i < res.tokens.size() && i < res.logprobs.size(); ++i) {
      nlohmann::json e = {{"id", res.tokens[i]}, {"text", sanitize_utf8(tok.token_bytes(res.tokens[i]))}, {"logprob", res.logprobs[i]}};
      if (i < res.top_logprobs.size()) {
        nlohmann::json top = nlohmann::json::array();
        for (const auto& [id, l] : res.top_logprobs[i]) top.push_back({{"id", id}, {"text", sanitize_utf8(tok.token_bytes(id))}, {"logprob", l}});
        e["top_logprobs"] = top;
      }
      lp.push_back(e);
    }
    nlohmann::json j = {{"schema_version", 1},
                        {"model", a.model},
                        {"chat_format", a.chat ? models::chat_format_name(engine->chat_format()) : "none"},
                        {"text", sanitize_utf8(res.text)},
                        {"finish_reason", res.finish_reason},
                        {"prompt_tokens", res.prompt_tokens},
                        {"completion_tokens", res.tokens.size()},
                        {"tokens", res.tokens},
                        {"ttft_ms", ttft_ms},
                        {"decode_tokens_per_s", decode_tps},
                        {"total_ms", (res.end_ns - res.submit_ns) / 1e6}};
    j["logprobs"] = lp;
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("\n");
    log_info("{} prompt tokens, {} generated ({}), TTFT {:.1f} ms, decode {:.1f} tok/s", res.prompt_tokens, res.tokens.size(),
             res.finish_reason, ttft_ms, decode_tps);
  }
  return kExitOk;
}
#endif

}  // namespace

void add_generate_command(CLI::App& root, int& exit_code) {
  auto a = std::make_shared<GenerateArgs>();
  auto* cmd = root.add_subcommand("generate", "Generate text with the native engine (a checkpoint or a random-weight preset)");
  cmd->add_option("--model", a->model, "native:PATH, native:preset:NAME (or PATH, preset:NAME)")->required();
  cmd->add_option("--prompt", a->prompt, "prompt text")->required();
  cmd->add_flag("--chat", a->chat, "wrap the prompt in the checkpoint's chat template (Apriel's for presets)");
  cmd->add_option("--system", a->system, "system message (with --chat)");
  cmd->add_option("--max-tokens", a->max_tokens, "tokens to generate (default 128)");
  cmd->add_option("--temperature", a->temperature, "0 = greedy (default)");
  cmd->add_option("--top-p", a->top_p, "nucleus sampling (default 1)");
  cmd->add_option("--top-k", a->top_k, "top-k sampling (default off)");
  cmd->add_option("--min-p", a->min_p, "min-p sampling (default off)");
  cmd->add_option("--seed", a->seed, "sampling seed (default 0)");
  cmd->add_option("--logprobs", a->logprobs, "top-K log-probabilities per token (with --json)");
  cmd->add_option("--stop", a->stop, "stop string (repeatable)");
  cmd->add_flag("--ignore-eos", a->ignore_eos, "keep generating past EOS");
  cmd->add_option("--threads", a->threads, "intra-op CPU threads (default 1; 0 = LibTorch's default)");
  cmd->add_flag("--json", a->json, "print one JSON object instead of streaming text");
  cmd->callback([a, &exit_code] {
#ifdef HYBENCH_HAVE_ENGINE
    exit_code = run_generate(*a);
#else
    throw Error(ErrorCode::usage, "this hybench was built without the native engine (LibTorch not found)");
#endif
  });
}

}  // namespace hb::cli
