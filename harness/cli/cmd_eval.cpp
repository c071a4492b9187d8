// hybench eval: one or more suites against one model, every sample stored, resumable with --run.
#include <csignal>
#include <cstdio>

#include "datasets/catalog.h"
#include "harness/backends/backend_factory.h"
#include "harness/base/clock.h"
#include "harness/base/console.h"
#include "harness/base/error.h"
#include "harness/base/strings.h"
#include "harness/cli/cli_options.h"
#include "harness/cli/commands.h"
#include "harness/runner/scoring_resources.h"
#include "harness/runner/eval_estimate.h"
#include "harness/runner/error_rate.h"
#include "harness/runner/eval_runner.h"
#include "harness/cli/sandbox_cli_options.h"
#include "harness/runner/model_record.h"
#include "harness/runner/part_configs.h"
#include "harness/store/store.h"
#include "suites/suite.h"

namespace hb::cli {
namespace {

struct EvalArgs {
  std::string model, model_name, suites = "", variant, db = "hybench.db", run, data_dir, judge, judge_name;
  int limit = 0;  // 0 = not given
  int samples = 1;
  double temperature = -1;
  int max_tokens = 0;
  int concurrency = 16;
  long long seed = -1;
  double max_error_rate = 0.5;
  std::string api_key_env = "OPENAI_API_KEY";
  sandbox::SandboxOptions sandbox;
  double connect_timeout_s = 10, idle_timeout_s = 300;
  int max_attempts = 4;
  bool no_stream = false;
  std::string reasoning_markers;
  std::string launch_url;
  double launch_timeout_s = 600;
};

void on_signal(int) { runner::interrupt_flag().store(true); }

void validate(const EvalArgs& a, const CLI::App& app) {
  auto given = [&](const char* name) { return app.count(name) > 0; };
  if (given("--limit") && a.limit < 1)
    throw Error(ErrorCode::usage, "--limit must be a positive number of items, got " + std::to_string(a.limit) +
                                      "; leave it out to run every item");
  if (a.samples < 1 || a.samples > 10000)
    throw Error(ErrorCode::usage, "--samples must be between 1 and 10000, got " + std::to_string(a.samples));
  if (given("--temperature") && !(a.temperature >= 0 && a.temperature <= 10))  // NaN fails too
    throw Error(ErrorCode::usage, "--temperature must be between 0 and 10, got " + fmt::format("{}", a.temperature));
  if (given("--max-tokens") && a.max_tokens < 1)
    throw Error(ErrorCode::usage, "--max-tokens must be at least 1, got " + std::to_string(a.max_tokens));
  if (a.concurrency < 1 || a.concurrency > 10000)
    throw Error(ErrorCode::usage, "--concurrency must be between 1 and 10000, got " + std::to_string(a.concurrency));
  runner::check_max_error_rate(a.max_error_rate, "--max-error-rate");
  if (!(a.connect_timeout_s > 0 && a.connect_timeout_s < 1e6) || !(a.idle_timeout_s > 0 && a.idle_timeout_s < 1e6))
    throw Error(ErrorCode::usage, fmt::format("--connect-timeout and --idle-timeout must be positive seconds, got {} and {}",
                                              a.connect_timeout_s, a.idle_timeout_s));
  if (a.max_attempts < 1 || a.max_attempts > 100)
    throw Error(ErrorCode::usage, "--max-attempts must be between 1 and 100, got " + std::to_string(a.max_attempts));
  if (given("--seed") && a.seed < 0) throw Error(ErrorCode::usage, "--seed must be >= 0, got " + std::to_string(a.seed));
}

// Only what changes results goes into the run's config hash (not concurrency, limit or timeouts), so a
// run can be resumed with another --concurrency or extended with a larger --limit (part_configs.h).
nlohmann::json run_config(const EvalArgs& a, const CLI::App& app, const std::vector<std::string>& suites,
                          const std::string& model_name) {
  runner::EvalPartConfig c;
  c.model = a.model;
  c.model_name = model_name;
  c.suites = suites;
  c.samples = app.count("--samples") ? a.samples : 0;
  c.variant = a.variant;
  if (app.count("--temperature")) c.temperature = a.temperature;
  if (app.count("--max-tokens")) c.max_tokens = a.max_tokens;
  if (app.count("--seed")) c.seed = a.seed;
  c.reasoning_markers = a.reasoning_markers;
  if (!a.judge.empty()) c.judge = a.judge + (a.judge_name.empty() ? "" : " " + a.judge_name);
  return c.to_json();
}

std::string fmt_value(double v) { return v != v ? "n/a" : fmt::format("{:.4f}", v); }

int run_suites(const EvalArgs& a, const CLI::App& app, store::Store& store, const store::RunRecord& run,
               const std::string& run_name, Backend& backend, const BackendInfo& binfo, const std::string& model_name,
               const std::vector<std::unique_ptr<suites::Suite>>& suite_list,
               const std::vector<std::vector<suites::Item>>& suite_items, const BackendOptions& bo,
               const suites::SuiteOptions& suite_options, const std::vector<store::RunPart>& parts) {
  int64_t model_id = store.ensure_model(runner::model_record(a.model, model_name, binfo));

  runner::EvalOptions eo;
  if (app.count("--limit")) eo.limit = a.limit;
  if (app.count("--temperature")) eo.temperature = a.temperature;
  if (app.count("--max-tokens")) eo.max_tokens = a.max_tokens;
  if (app.count("--seed")) eo.seed = static_cast<uint64_t>(a.seed);
  eo.concurrency = a.concurrency;
  eo.max_error_rate = a.max_error_rate;
  eo.reasoning_markers = suite_options.reasoning_markers;

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  BackendOptions judge_options = bo;
  judge_options.model_name = a.judge_name;
  runner::ScoringResources scoring_resources(a.judge, judge_options);
  scoring_resources.set_sandbox_options(a.sandbox);
  for (auto& suite : suite_list)  // MBPP without a sandbox: refuse before generating anything
    if (suite->info().name == "mbpp") scoring_resources.context_for(*suite);

  bool failed = false, interrupted = false;
  runner::ErrorTally tally;
  std::printf("run %s  model %s\n", run_name.c_str(), model_name.c_str());
  std::printf("%-10s %-8s %-22s %7s %9s %9s\n", "suite", "variant", "metric", "n", "value", "stderr");
  std::fflush(stdout);
  for (auto& suite : suite_list) {
    const auto& info = suite->info();
    eo.samples = app.count("--samples") ? a.samples : info.default_samples;
    if (eo.samples > 1 && (!eo.temperature || *eo.temperature == 0) && info.default_sampling.temperature == 0)
      log_warn("{} samples per item at temperature 0 are likely identical; pass --temperature", eo.samples);
    const auto& items = suite_items[static_cast<size_t>(&suite - suite_list.data())];
    int64_t suite_id = store.ensure_suite({info.name, info.variant, info.version, suite->prompt_hash()});
    auto scoring = scoring_resources.context_for(*suite);
    // Before a long eval: what it will request and, when this model answered this suite before, how long.
    log_info("{}", runner::estimate_eval(store, *suite, items, eo.limit, eo.samples, eo.concurrency, run.id, model_id,
                                         suite_id)
                       .text(app.count("--limit") > 0));
    runner::EvalOutcome outcome = runner::run_eval(backend, *suite, items, store, {run.id, model_id, suite_id}, eo, scoring);
    tally.add(outcome.stored_errors, static_cast<int64_t>(outcome.total));
    for (const auto& m : outcome.metrics)
      std::printf("%-10s %-8s %-22s %7zu %9s %9s\n", info.name.c_str(), info.variant.c_str(), m.metric.c_str(), m.n,
                  fmt_value(m.value).c_str(), m.n == 0 ? "n/a" : fmt_value(m.stderr_).c_str());
    std::string kinds;
    for (const auto& [kind, n] : outcome.errors_by_kind) kinds += (kinds.empty() ? "" : ", ") + kind + " " + std::to_string(n);
    std::printf("%-10s errors: %lld of %zu samples stored with an error%s\n", info.name.c_str(),
                static_cast<long long>(outcome.stored_errors), outcome.total,
                kinds.empty() ? "" : (" (this session: " + kinds + ")").c_str());
    std::fflush(stdout);
    if (outcome.interrupted) {
      interrupted = true;
      break;
    }
    if (outcome.aborted) {
      failed = true;  // the runner has logged why
      break;
    }
    runner::ErrorTally suite_tally{outcome.stored_errors, static_cast<int64_t>(outcome.total)};
    if (suite_tally.exceeds(eo.max_error_rate)) {
      failed = true;
      log_error("suite {}: {}, more than --max-error-rate {:g}; first error: {}", info.name,
                suite_tally.describe("samples"), eo.max_error_rate, outcome.first_error);
    }
  }
  if (tally.exceeds(eo.max_error_rate)) failed = true;
  std::string status = interrupted ? "interrupted" : failed ? "failed" : "finished";
  store.end_parts(run.id, parts, status);
  std::printf("%s\n", runner::final_line(run_name, status, tally, "samples", eo.max_error_rate).c_str());
  std::fflush(stdout);
  if (interrupted) {
    log_warn("interrupted; re-run the same command with --run {} to continue", run_name);
    return kExitRunFailed;
  }
  if (failed) {
    log_error("run '{}' failed; fix the cause and re-run with --run {} to retry the failed samples", run_name, run_name);
    return kExitRunFailed;
  }
  return kExitOk;
}

int run_eval_command(const EvalArgs& a, const CLI::App& app) {
  validate(a, app);
  std::vector<std::string> suite_specs;
  for (const auto& s : split(a.suites, ',')) {
    if (!trim(s).empty()) suite_specs.emplace_back(trim(s));
  }
  if (suite_specs.empty()) throw Error(ErrorCode::usage, "--suite names no suite; available: " + join(suites::suite_names(), ", "));

  suites::SuiteOptions suite_options;
  suite_options.variant = a.variant;
  if (!a.reasoning_markers.empty()) suite_options.reasoning_markers = split(a.reasoning_markers, ',');
  std::vector<std::unique_ptr<suites::Suite>> suite_list;
  for (const auto& s : suite_specs) suite_list.push_back(suites::make_suite(s, suite_options));  // validates names

  BackendOptions bo;
  bo.model_name = a.model_name;
  bo.max_in_flight = a.concurrency;
  bo.api_key_env = a.api_key_env;
  bo.connect_timeout_s = a.connect_timeout_s;
  bo.idle_timeout_s = a.idle_timeout_s;
  bo.max_attempts = a.max_attempts;
  bo.stream = !a.no_stream;
  bo.launch_url = a.launch_url;
  bo.launch_timeout_s = a.launch_timeout_s;
  bo.launch_log_path = a.db + ".server.log";  // beside the database
  std::string model_name = a.model_name.empty() ? default_model_name(a.model) : a.model_name;
  // Every input is checked (model spec, suite data) before the database is touched: a run that could not
  // start is never left in it as `running`.
  check_backend_spec(a.model, bo);  // cheap: before a data download
  datasets::Catalog catalog(a.data_dir);
  std::vector<std::vector<suites::Item>> suite_items;
  for (auto& suite : suite_list) suite_items.push_back(suite->load(catalog));
  auto backend = make_backend(a.model, bo);
  BackendInfo binfo = backend->describe();
  store::Store store(a.db);

  std::string run_name = a.run;
  if (run_name.empty()) {
    std::string base = "eval-" + model_name + "-" + utc_now_compact();
    run_name = base;
    for (int i = 2; store.run_exists(run_name); ++i) run_name = base + "-" + std::to_string(i);
  }
  // One part per suite of this model: a nightly run can also hold other models, other suites and sweeps.
  std::vector<store::RunPart> parts;
  for (const auto& s : suite_specs)
    parts.push_back({runner::eval_part_key(model_name, s), "eval", run_config(a, app, {s}, model_name)});
  auto run = store.open_run_parts(run_name, "eval", run_config(a, app, suite_specs, model_name), parts);
  log_info("run '{}' ({}) in {}", run_name, run.resumed ? "resumed" : "new", a.db);
  if (a.run.empty()) log_info("to resume this run after an interruption, add --run {}", run_name);

  try {
    return run_suites(a, app, store, run, run_name, *backend, binfo, model_name, suite_list, suite_items, bo,
                      suite_options, parts);
  } catch (...) {
    runner::mark_run_failed(store, run.id);  // what was stored stays; the run says it failed
    throw;
  }
}

}  // namespace

CLI::Option* add_db_option(CLI::App& app, std::string& db_path) {
  return app.add_option("--db", db_path, "SQLite results database (created if missing)")->capture_default_str();
}

void add_eval_command(CLI::App& root, int& exit_code) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* app = root.add_subcommand("eval", "Evaluate a model on one or more suites; every sample is stored");
  app->add_option("--model", args->model, "Backend: openai:URL[,URL...] | native:PATH | native:preset:NAME | launch:CMD")
      ->transform([](std::string v) { return http_url_as_openai("--model", v); })
      ->required();
  app->add_option("--model-name", args->model_name, "Model name sent to the server and shown in reports");
  app->add_option("--suite", args->suites, "Suite(s), comma-separated, each NAME or NAME:VARIANT (e.g. gsm8k, gsm8k:cot8)")
      ->required();
  app->add_option("--variant", args->variant, "Prompt variant for every suite (default: each suite's own)");
  app->add_option("--limit", args->limit, "Only the first N items of each suite");
  app->add_option("--samples", args->samples, "Samples per item (K; default: the suite's, e.g. 16 for AIME)");
  app->add_option("--temperature", args->temperature, "Sampling temperature (default: the suite's)");
  app->add_option("--max-tokens", args->max_tokens, "Completion token limit (default: the suite's)");
  app->add_option("--concurrency", args->concurrency, "Requests in flight")->capture_default_str();
  app->add_option("--seed", args->seed, "Base seed; each sample gets a seed derived from it");
  add_db_option(*app, args->db);
  app->add_option("--run", args->run, "Run name; the same name resumes an interrupted run (default: a new name)");
  app->add_option("--data-dir", args->data_dir, "Local mirror of the suite data (also HYBENCH_DATA_DIR)");
  app->add_option("--judge", args->judge, "Judge backend for MT-Bench (same forms as --model)")
      ->transform([](std::string v) { return http_url_as_openai("--judge", v); });
  app->add_option("--judge-name", args->judge_name, "Model name of the judge (sent as \"model\")");
  app->add_option("--max-error-rate", args->max_error_rate,
                  "The run fails (exit 3) when more than this fraction of samples fail after their retries")
      ->capture_default_str();
  app->add_option("--api-key-env", args->api_key_env, "Environment variable holding the API key")->capture_default_str();
  app->add_option("--connect-timeout", args->connect_timeout_s, "Connect timeout, seconds")->capture_default_str();
  app->add_option("--idle-timeout", args->idle_timeout_s, "Abort a request after this many seconds without a byte")
      ->capture_default_str();
  app->add_option("--max-attempts", args->max_attempts,
                  "Attempts per request: connect errors, 429, 5xx and dropped, stalled or garbled streams are retried "
                  "from the start")
      ->capture_default_str();
  app->add_flag("--no-stream", args->no_stream, "Use non-streaming requests");
  app->add_option("--launch-url", args->launch_url, "With --model launch:CMD: the server's base URL, e.g. http://127.0.0.1:8000/v1");
  app->add_option("--launch-timeout", args->launch_timeout_s, "Seconds to wait for a launched server to become healthy")
      ->capture_default_str();
  app->add_option("--reasoning-markers", args->reasoning_markers,
                  "End-of-reasoning markers, comma-separated (OPEN|CLOSE for pairs); default </think> and Apriel's");
  add_sandbox_options(app, args->sandbox);
  app->callback([args, app, &exit_code] { exit_code = run_eval_command(*args, *app); });
}

}  // namespace hb::cli
