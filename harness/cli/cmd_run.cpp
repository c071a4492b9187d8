// hybench run STUDY.json: every model x suite of a study, resumable, then the report.
#include <csignal>
#include <cstdio>

#include "datasets/catalog.h"
#include "harness/backends/backend_factory.h"
#include "harness/base/console.h"
#include "harness/base/error.h"
#include "harness/base/hash.h"
#include "harness/base/files.h"
#include "harness/cli/commands.h"
#include "harness/load/sweep.h"
#include "reports/gate.h"
#include "reports/report.h"
#include "reports/results_db.h"
#include "reports/study_data.h"
#include "harness/runner/error_rate.h"
#include "harness/runner/eval_runner.h"
#include "harness/runner/model_record.h"
#include "harness/runner/part_configs.h"
#include "harness/cli/sandbox_cli_options.h"
#include "harness/runner/scoring_resources.h"
#include "harness/sandbox/sandbox_code_runner.h"
#include "harness/runner/study.h"
#include "harness/store/store.h"
#include "suites/suite.h"

namespace hb::cli {
namespace {

struct RunArgs {
  std::string study, db = "hybench.db", out, run, shard, data_dir;
  bool no_report = false;
  sandbox::SandboxOptions sandbox;
};

void on_signal(int) { runner::interrupt_flag().store(true); }

// The suites of a study with their items, loaded before anything is written.
struct LoadedSuites {
  std::vector<std::unique_ptr<suites::Suite>> suites;
  std::vector<std::vector<suites::Item>> items;
};

// Every input of the study is checked before the database is touched (model specs, the gate policy,
// suite names and their data), so a study that cannot run leaves no `running` run behind.
LoadedSuites check_study_inputs(const runner::Study& study, const RunArgs& a) {
  for (size_t i = 0; i < study.models.size(); ++i) {
    BackendOptions bo;
    bo.launch_url = study.models[i].launch_url.value_or("");
    try {
      check_backend_spec(study.models[i].spec, bo);
    } catch (Error& e) {
      throw e.with_context("in " + a.study + ": /models/" + std::to_string(i) + "/spec");
    }
  }
  if (!study.gate.is_null()) reports::parse_gate_policy(study.gate, a.study + ": /gate");
  datasets::Catalog catalog(a.data_dir);
  LoadedSuites loaded;
  for (size_t i = 0; i < study.suites.size(); ++i) {
    try {
      loaded.suites.push_back(suites::make_suite(study.suites[i].suite, {}));
      loaded.items.push_back(loaded.suites.back()->load(catalog));
    } catch (Error& e) {
      throw e.with_context("in " + a.study + ": /suites/" + std::to_string(i));
    }
  }
  return loaded;
}

// The parts this invocation opened (part_configs.h); each is ended once, with its own status, when its step
// ends; the run's status summarises every part (Store::end_parts).
class OpenParts {
 public:
  OpenParts(store::Store& store, int64_t run_id, std::vector<store::RunPart> parts)
      : store_(store), run_id_(run_id), open_(std::move(parts)) {}
  void end(const std::string& key, const std::string& status) {
    for (auto it = open_.begin(); it != open_.end(); ++it)
      if (it->key == key) {
        store_.end_parts(run_id_, {*it}, status);
        open_.erase(it);
        return;
      }
  }
  // Parts whose step never ran (interrupted, or a step before them threw).
  void end_rest(const std::string& status) {
    if (open_.empty()) return;
    store_.end_parts(run_id_, open_, status);
    open_.clear();
  }

 private:
  store::Store& store_;
  int64_t run_id_;
  std::vector<store::RunPart> open_;
};

int run_study_steps(const RunArgs& a, const runner::Study& study, LoadedSuites& loaded, store::Store& store,
                    const store::RunRecord& run, const std::string& run_name, int shard_index, int shard_count,
                    OpenParts& parts);

int run_study(const RunArgs& a) {
  runner::Study study = runner::load_study(a.study);
  auto [shard_index, shard_count] = a.shard.empty() ? std::pair<int, int>{0, 1} : runner::parse_shard(a.shard);
  LoadedSuites loaded = check_study_inputs(study, a);
  // MBPP runs model-written code: refuse before any model starts when no sandbox can be built.
  for (const auto& suite : loaded.suites) {
    if (suite->info().name != "mbpp") continue;
    sandbox::SandboxCodeRunner check(a.sandbox);
    break;
  }
  store::Store store(a.db);
  std::string run_name = a.run.empty() ? study.name : a.run;
  // One part per model x suite and per model's sweep, like `eval` and `sweep`: each resumes on its own, an
  // edited suite or workload is refused naming its part (nothing is written then), and evals or sweeps of
  // other commands can share the run name.
  std::vector<store::RunPart> part_list = runner::study_parts(study, shard_index, shard_count);
  auto run = store.open_run_parts(run_name, "study", study.raw, part_list);
  OpenParts parts(store, run.id, part_list);
  try {
    return run_study_steps(a, study, loaded, store, run, run_name, shard_index, shard_count, parts);
  } catch (...) {
    try {  // what was stored stays; the step that threw and those after it say they failed
      parts.end_rest("failed");
    } catch (const std::exception&) {
    }
    runner::mark_run_failed(store, run.id);
    throw;
  }
}

int run_study_steps(const RunArgs& a, const runner::Study& study, LoadedSuites& loaded, store::Store& store,
                    const store::RunRecord& run, const std::string& run_name, int shard_index, int shard_count,
                    OpenParts& parts) {
  log_info("study '{}': run '{}' ({}) in {}{}", study.name, run_name, run.resumed ? "resumed" : "new", a.db,
           shard_count > 1 ? fmt::format(", shard {}/{}", shard_index, shard_count) : "");
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  bool failed = false;
  runner::ErrorTally sample_tally, request_tally;
  std::printf("study %s  run %s\n", study.name.c_str(), run_name.c_str());
  std::printf("%-16s %-10s %-8s %-22s %7s %9s %9s\n", "model", "suite", "variant", "metric", "n", "value", "stderr");
  for (const auto& m : study.models) {
    if (runner::interrupt_flag().load()) break;
    BackendOptions bo;
    bo.model_name = m.name;
    bo.max_in_flight = m.concurrency > 0 ? m.concurrency : study.concurrency;
    bo.launch_url = m.launch_url.value_or("");
    bo.launch_log_path = a.db + "." + m.name + ".server.log";
    auto backend = make_backend(m.spec, bo);
    int64_t model_id = store.ensure_model(runner::model_record(m.spec, m.name, backend->describe(), m.layout));
    BackendOptions judge_options = bo;
    judge_options.model_name = study.judge_name;
    runner::ScoringResources scoring_resources(study.judge, judge_options);
    scoring_resources.set_sandbox_options(a.sandbox);
    for (size_t si = 0; si < study.suites.size(); ++si) {
      const auto& ss = study.suites[si];
      auto& suite = loaded.suites[si];
      const auto& info = suite->info();
      const auto& items = loaded.items[si];
      int64_t suite_id = store.ensure_suite({info.name, info.variant, info.version, suite->prompt_hash()});
      runner::EvalOptions eo;
      eo.limit = ss.limit;
      eo.samples = ss.samples > 0 ? ss.samples : info.default_samples;
      eo.temperature = ss.temperature;
      eo.max_tokens = ss.max_tokens;
      eo.seed = ss.seed;
      eo.concurrency = bo.max_in_flight;
      eo.shard_index = shard_index;
      eo.shard_count = shard_count;
      eo.max_error_rate = study.max_error_rate;
      auto scoring = scoring_resources.context_for(*suite);
      runner::EvalOutcome outcome =
          runner::run_eval(*backend, *suite, items, store, {run.id, model_id, suite_id}, eo, scoring);
      runner::ErrorTally suite_tally{outcome.stored_errors, static_cast<int64_t>(outcome.total)};
      sample_tally.add(suite_tally.failed, suite_tally.total);
      for (const auto& mv : outcome.metrics)
        std::printf("%-16s %-10s %-8s %-22s %7zu %9s %9s\n", m.name.c_str(), info.name.c_str(), info.variant.c_str(),
                    mv.metric.c_str(), mv.n, mv.value != mv.value ? "n/a" : fmt::format("{:.4f}", mv.value).c_str(),
                    fmt::format("{:.4f}", mv.stderr_).c_str());
      std::fflush(stdout);
      const std::string key = runner::eval_part_key(m.name, ss.suite);
      if (outcome.interrupted) {
        parts.end(key, "interrupted");
        break;
      }
      if (outcome.aborted || suite_tally.exceeds(study.max_error_rate)) {
        failed = true;
        log_error("model {} suite {}: {}, more than the study's max_error_rate {:g}; first error: {}", m.name, info.name,
                  suite_tally.describe("samples"), study.max_error_rate, outcome.first_error);
      }
      parts.end(key, outcome.aborted || suite_tally.exceeds(study.max_error_rate) ? "failed" : "finished");
    }
  }
  // Throughput: with --shard, model i is measured by shard i % N (one machine per model slice).
  if (!study.throughput.empty()) {
    for (size_t mi = 0; mi < study.models.size() && !runner::interrupt_flag().load(); ++mi) {
      if (static_cast<int>(mi % static_cast<size_t>(shard_count)) != shard_index) continue;
      const auto& m = study.models[mi];
      BackendOptions bo;
      bo.model_name = m.name;
      bo.max_in_flight = 100000;  // the sweep sets the load; the client must not cap it
      bo.launch_url = m.launch_url.value_or("");
      bo.launch_log_path = a.db + "." + m.name + ".server.log";
      auto backend = make_backend(m.spec, bo);
      int64_t model_id = store.ensure_model(runner::model_record(m.spec, m.name, backend->describe(), m.layout));
      bool model_failed = false;
      for (const auto& w : study.throughput) {
        if (runner::interrupt_flag().load()) break;
        load::SweepOptions so;
        so.model_name = m.name;
        so.shapes = load::parse_shapes(w.shape);
        for (int c : w.concurrency) so.loads.push_back({load::LoadKind::concurrency, static_cast<double>(c), 1});
        for (double r : w.rate) so.loads.push_back({load::LoadKind::rate, r, 1});
        so.requests = w.requests;
        so.warmup = w.warmup;
        so.repeats = w.repeats;
        so.settings = backend->describe().details;
        so.client_shares_process = backend->describe().kind == "native";
        if (so.client_shares_process) so.vocab_size = backend->describe().details.value("vocab_size", 0);
        log_info("throughput: model {} shape {}", m.name, w.shape);
        auto result = load::run_sweep(*backend, so, &store, run.id, model_id);
        runner::ErrorTally point_tally;
        for (const auto& p : result.points) point_tally.add(p.metrics.value("errors", 0), p.metrics.value("requests", 0));
        request_tally.add(point_tally.failed, point_tally.total);
        if (point_tally.exceeds(study.max_error_rate)) {
          failed = model_failed = true;
          log_error("model {} shape {}: {}, more than the study's max_error_rate {:g}", m.name, w.shape,
                    point_tally.describe("requests"), study.max_error_rate);
        }
        std::string table = load::render_table(result);
        std::fwrite(table.data(), 1, table.size(), stdout);
        std::fflush(stdout);
      }
      // An interrupt may have cut the last point short: the part resumes at its first unfinished point.
      parts.end(runner::sweep_part_key(m.name),
                model_failed ? "failed" : runner::interrupt_flag().load() ? "interrupted" : "finished");
    }
  }

  bool interrupted = runner::interrupt_flag().load();
  std::string status = interrupted ? "interrupted" : failed ? "failed" : "finished";
  parts.end_rest("interrupted");  // only parts an interrupt kept from running are still open
  if (request_tally.total > 0)
    std::printf("%s\n", runner::final_line(run_name, status, request_tally, "throughput requests", study.max_error_rate).c_str());
  std::printf("%s\n", runner::final_line(run_name, status, sample_tally, "samples", study.max_error_rate).c_str());
  std::fflush(stdout);
  if (interrupted) {
    log_warn("interrupted; run the same command again to continue");
    return kExitRunFailed;
  }
  if (failed) return kExitRunFailed;
  if (shard_count > 1) {
    log_info("shard {}/{} done; merge the shards with `hybench merge ... --into ALL.db`, then `hybench report`",
             shard_index, shard_count);
    return kExitOk;
  }
  if (a.no_report) return kExitOk;

  // The report, then the gate decision when the study has a policy.
  store.flush();
  std::string out_dir = a.out.empty() ? "report-" + study.name : a.out;
  reports::ResultsDb db(a.db);
  reports::ReportOptions ro;
  ro.runs = {run_name};
  ro.out_dir = out_dir;
  ro.baseline = study.baseline;
  if (!study.gate.is_null()) {
    ro.gate_policy = study.gate;
    ro.gate_source = a.study;
  }
  reports::prepare_output_dir(out_dir);
  auto files = reports::write_report(db, ro);
  log_info("report: {}/index.html ({} files)", out_dir, files.size());
  if (!study.gate.is_null()) {
    auto policy = reports::parse_gate_policy(study.gate, a.study + ": /gate");
    policy.origin = "study gate policy (" + a.study + ")";
    auto data = reports::collect_study(db, db.select_runs({run_name}), study.baseline);
    auto decision = reports::run_gate(data, {}, policy);
    std::string text = reports::render_gate_text(decision, policy);
    std::fwrite(text.data(), 1, text.size(), stdout);
    write_file(out_dir + "/gate.json", reports::render_gate_json(decision));
    return reports::gate_exit_code(decision);
  }
  return kExitOk;
}

}  // namespace

void add_run_command(CLI::App& root, int& exit_code) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* app = root.add_subcommand("run", "Run a whole study (models x suites x throughput), then write the report and, "
                                              "when the study has a gate policy, decide (exit 1 when no candidate passes)");
  app->add_option("study", args->study, "Study file (JSON; see studies/)")->required();
  add_db_option(*app, args->db);
  app->add_option("--out", args->out, "Report directory (default: report-<study> beside the database)");
  app->add_option("--run", args->run, "Run name (default: the study's name); the same name resumes");
  app->add_option("--shard", args->shard, "Run only slice I of N of the study's items (combine with `hybench merge`)");
  app->add_option("--data-dir", args->data_dir, "Local mirror of the suite data (also HYBENCH_DATA_DIR)");
  app->add_flag("--no-report", args->no_report, "Do not write the report at the end");
  add_sandbox_options(app, args->sandbox);
  app->callback([args, &exit_code] { exit_code = run_study(*args); });
}

}  // namespace hb::cli
