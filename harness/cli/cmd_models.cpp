// hybench models inspect SPEC [--json]: a model's layout, sizes and the spec-5 decode bound, without
// loading weights (presets and checkpoint configs alike).
#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "harness/base/error.h"
#include "harness/base/strings.h"
#include "harness/cli/commands.h"
#ifdef HYBENCH_HAVE_ENGINE
#include "models/model_config.h"
#include "models/presets.h"
#endif

namespace hb::cli {

#ifdef HYBENCH_HAVE_ENGINE
namespace {

models::ModelConfig config_for_spec(std::string spec) {
  if (starts_with(spec, "native:")) spec = spec.substr(7);
  if (starts_with(spec, "preset:")) return models::preset_config(spec.substr(7));
  return models::load_model_config(spec);
}

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  return fmt::format("{:.2f} {}", b, units[u]);
}

void inspect(const std::string& spec, bool json) {
  auto c = config_for_spec(spec);
  const int64_t ctx = 16384;
  int64_t bmax = models::h100_max_batch(c, ctx);
  double b1 = models::h100_decode_bound_tokens_per_s(c, 1, ctx);
  double bm = bmax > 0 ? models::h100_decode_bound_tokens_per_s(c, bmax, ctx) : 0.0;
  if (json) {
    nlohmann::json j = {{"schema_version", 1},
                        {"name", c.name},
                        {"model_type", c.model_type},
                        {"layout", c.layout_string()},
                        {"layers", c.num_layers()},
                        {"attention_layers", c.attention_layers()},
                        {"mamba_layers", c.mamba_layers()},
                        {"params", c.params()},
                        {"weight_bytes", c.weight_bytes()},
                        {"kv_bytes_per_token", c.kv_bytes_per_token()},
                        {"state_bytes_per_sequence", c.state_bytes_per_sequence()},
                        {"config", c.to_json()},
                        {"decode_bound_h100",
                         {{"context", ctx},
                          {"batch1_tokens_per_s", b1},
                          {"max_batch", bmax},
                          {"max_batch_tokens_per_s", bm},
                          {"assumptions", "spec 5: 3.35 TB/s, 989 TFLOP/s, bf16 weights+KV, fp32 SSM state, 0.9*80e9 B - weights - 3e9 B for KV"}}}};
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::printf("model              %s (%s)\n", c.name.c_str(), c.model_type.c_str());
  std::printf("layout             %s\n", c.layout_string().c_str());
  std::printf("layers             %d (attention %d, mamba %d)\n", c.num_layers(), c.attention_layers(), c.mamba_layers());
  std::printf("dims               hidden %d, heads %d/%d x %d, mlp %d, vocab %d\n", c.hidden_size, c.num_heads, c.num_kv_heads,
              c.head_dim, c.intermediate_size, c.vocab_size);
  if (c.mamba_layers() > 0) {
    std::printf("m2 mixer           d_inner %d, d_xb %d, d_state %d, dt_rank %d, d_conv %d\n", c.ssm.d_inner, c.ssm.d_xb,
                c.ssm.d_state, c.ssm.dt_rank, c.ssm.d_conv);
  }
  std::printf("params             %lld (%.3f B)\n", (long long)c.params(), c.params() / 1e9);
  std::printf("weight bytes       %lld (%s, bf16)\n", (long long)c.weight_bytes(), human_bytes(double(c.weight_bytes())).c_str());
  std::printf("KV bytes/token     %lld (bf16, attention layers only)\n", (long long)c.kv_bytes_per_token());
  std::printf("state bytes/seq    %lld (%s; fp32 SSM + bf16 conv window)\n", (long long)c.state_bytes_per_sequence(),
              human_bytes(double(c.state_bytes_per_sequence())).c_str());
  std::printf("H100 decode bound  %.1f tok/s at batch 1, %.0f tok/s at max batch %lld (context %lld; spec 5)\n", b1, bm,
              (long long)bmax, (long long)ctx);
}

}  // namespace
#endif

void add_models_command(CLI::App& root, int& exit_code) {
  auto* models = root.add_subcommand("models", "Describe native-engine models (presets and HF checkpoints)");
  models->require_subcommand(1);
  auto* ins = models->add_subcommand("inspect", "Layout, layer counts, params, weight/KV/state bytes and the H100 decode bound");
  auto spec = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  ins->add_option("SPEC", *spec, "preset:NAME, native:preset:NAME, native:PATH or a checkpoint directory")->required();
  ins->add_flag("--json", *json, "print JSON");
  ins->callback([spec, json, &exit_code] {
#ifdef HYBENCH_HAVE_ENGINE
    inspect(*spec, *json);
    exit_code = kExitOk;
#else
    throw Error(ErrorCode::usage, "this hybench was built without the native engine (LibTorch not found)");
#endif
  });
}

}  // namespace hb::cli
