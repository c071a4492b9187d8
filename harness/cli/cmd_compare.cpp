// hybench compare: nightly regression verdict between two runs.
#include <cstdio>
#include <memory>
#include <string>

#include "harness/base/error.h"
#include "harness/cli/commands.h"
#include "reports/compare.h"
#include "harness/base/console.h"
#include "reports/results_db.h"
#include "reports/run_selection.h"
#include "reports/study_data.h"

namespace hb::cli {

void add_compare_command(CLI::App& root, int& exit_code) {
  auto* cmd = root.add_subcommand("compare", "Regression verdict between two runs (exit 1 on a regression)");
  cmd->footer(
      "Quality deltas per model and suite with paired tests (McNemar or paired bootstrap) and Holm correction;\n"
      "throughput and latency per workload point (median ratio, noise band from the repeats, Mann-Whitney).\n"
      "See docs/REPORTS.md.");
  struct Opts {
    std::string db = "hybench.db";
    std::string base, head;
    bool json = false;
    reports::CompareOptions options;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--db", o->db, "results database (an existing file)")->capture_default_str();
  cmd->add_option("--base", o->base,
                  "the reference run: a run name, 'previous' (the latest earlier finished run of the head's study or "
                  "name prefix) or a date YYYY-MM-DD (the last finished one started that UTC day)")
      ->required();
  cmd->add_option("--head", o->head, "the run to judge")->required();
  cmd->add_flag("--json", o->json, "print the verdict as JSON on stdout instead of text");
  cmd->add_option("--alpha", o->options.alpha, "significance level")
      ->capture_default_str()
      ->check(CLI::Range(1e-6, 0.5));
  cmd->add_option("--min-delta", o->options.min_delta, "quality drops up to this (absolute) are never regressions")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--min-band", o->options.min_band, "smallest relative noise band for throughput")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--min-band-latency", o->options.min_band_latency,
                  "smallest relative noise band for latency percentiles")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--perf-test", o->options.perf_test,
                  "test of throughput/latency repeats: mann-whitney (3+ repeats a side; p >= 0.05 with 3) or welch-log "
                  "(Welch t on log values, 2+ repeats; assumes log-normal repeats)")
      ->capture_default_str()
      ->check(CLI::IsMember({"mann-whitney", "welch-log"}));
  cmd->callback([o, &exit_code] {
    reports::ResultsDb db(o->db);
    const auto& head = db.run(o->head);
    auto choice = reports::choose_base_run(db.runs(), head, o->base);
    const auto& base = choice.run;
    if (o->base != base.name) log_info("compare: base is '{}', {}", base.name, choice.why);
    if (base.id == head.id)
      throw Error(ErrorCode::usage, "--base and --head are the same run '" + base.name + "'; pass two different runs");
    auto b = reports::collect_study(db, {base}, "");
    auto h = reports::collect_study(db, {head}, "");
    auto r = reports::compare_runs(b, h, o->options);
    if (r.quality.empty() && r.perf.empty())
      throw Error(ErrorCode::usage, "runs '" + base.name + "' and '" + o->head +
                                        "' share no model x suite or perf point (models match by display name); "
                                        "nothing to compare");
    std::string out = o->json ? reports::render_compare_json(r) : reports::render_compare_text(r, o->options);
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    exit_code = r.regression ? kExitVerdictFailed : kExitOk;
  });
}

}  // namespace hb::cli
