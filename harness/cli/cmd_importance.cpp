// hybench importance: leave-one-out layer importance (issue 16); the sweep itself is
// harness/runner/layer_importance.cpp. Prints the ranking and the attention layers to convert to Mamba next;
// `hybench report` draws the chart.
#include <memory>

#include "harness/base/error.h"
#include "harness/cli/commands.h"
#ifdef HYBENCH_HAVE_ENGINE
#include "harness/runner/layer_importance.h"
#endif

namespace hb::cli {

#ifdef HYBENCH_HAVE_ENGINE

void add_importance_command(CLI::App& root, int& exit_code) {
  auto args = std::make_shared<runner::ImportanceOptions>();
  auto limit = std::make_shared<int>(0), convert = std::make_shared<int>(0), max_tokens = std::make_shared<int>(0);
  auto seed = std::make_shared<long long>(-1);
  CLI::App* app = root.add_subcommand("importance", "Leave-one-out layer importance: which layers to convert to Mamba next");
  app->add_option("--model", args->model, "native:PATH | native:preset:NAME (engine options after commas)")->required();
  app->add_option("--model-name", args->model_name, "Display name of the full model");
  app->add_option("--suite", args->suites, "Suite(s), comma-separated: scored (score) or the prompts + completions (kl)");
  app->add_option("--limit", *limit, "Only the first N items of each suite");
  app->add_option("--layers", args->layers, "attention | mamba | all | a list such as 3,7-9")->capture_default_str();
  app->add_option("--mode", args->mode, "drop-mixer (the mixer contributes zero) | drop-layer (the block is skipped)")
      ->capture_default_str();
  app->add_option("--metric", args->metric, "score (paired score drop) | kl (mean KL of the next-token distribution)")
      ->capture_default_str();
  app->add_option("--convert", *convert, "Print the K least important attention layers to convert next");
  app->add_option("--from-layout", args->from_layout, "Current layout (t,m2,... or AAMA...); default: the checkpoint's");
  app->add_option("--text", args->text, "kl: the token set from this text file instead of stored completions");
  app->add_option("--from-run", args->from_run, "kl: take the full model's completions from this run (default: this one)");
  app->add_option("--seq-len", args->seq_len, "kl: tokens per sequence (longer ones are cut)")->capture_default_str();
  app->add_option("--sequences", args->sequences, "kl: at most this many sequences")->capture_default_str();
  app->add_option("--batch", args->batch, "kl: sequences per forward pass")->capture_default_str();
  app->add_option("--max-tokens", *max_tokens, "Completion token limit (default: the suite's)");
  app->add_option("--concurrency", args->concurrency, "Requests in flight")->capture_default_str();
  app->add_option("--seed", *seed, "Base seed for sampling");
  app->add_option("--max-error-rate", args->max_error_rate, "Abort when more than this fraction of requests fail")
      ->capture_default_str();
  add_db_option(*app, args->db);
  app->add_option("--run", args->run, "Run name; the same name resumes an interrupted sweep")->required();
  app->add_option("--data-dir", args->data_dir, "Local mirror of the suite data (also HYBENCH_DATA_DIR)");
  app->callback([args, app, limit, convert, max_tokens, seed, &exit_code] {
    if (app->count("--limit")) args->limit = *limit;
    if (app->count("--convert")) args->convert = *convert;
    if (app->count("--max-tokens")) args->max_tokens = *max_tokens;
    if (app->count("--seed")) args->seed = *seed;
    exit_code = runner::run_layer_importance(*args);
  });
}

#else
void add_importance_command(CLI::App& root, int& exit_code) {
  CLI::App* app = root.add_subcommand("importance", "Leave-one-out layer importance (needs the native engine)");
  app->allow_extras();
  app->callback([&exit_code] {
    throw Error(ErrorCode::config, "importance needs the native engine; this hybench was built without LibTorch (see docs/ENGINE.md)");
  });
  (void)exit_code;
}

#endif

}  // namespace hb::cli
