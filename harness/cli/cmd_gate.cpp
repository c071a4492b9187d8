// hybench gate: pick the fastest hybrid that is non-inferior to the baseline on every suite.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "harness/base/error.h"
#include "harness/base/files.h"
#include "harness/cli/commands.h"
#include "reports/gate.h"
#include "reports/results_db.h"
#include "reports/study_data.h"

namespace hb::cli {

void add_gate_command(CLI::App& root, int& exit_code) {
  auto* cmd = root.add_subcommand("gate", "Ship gate: pick the fastest candidate non-inferior to the baseline");
  cmd->footer(
      "For each candidate and suite, a paired non-inferiority test against the baseline on the items both\n"
      "answered (per-suite margins from the policy), plus a minimum throughput ratio at a chosen workload.\n"
      "Prints every number used. Exit 0 when a candidate passes, 1 when none does, 4 when the data cannot\n"
      "decide (too few items per suite, or degenerate scores). See docs/REPORTS.md.");
  struct Opts {
    std::string db = "hybench.db";
    std::string baseline, policy;
    std::vector<std::string> candidates, runs;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--db", o->db, "results database (an existing file)")->capture_default_str();
  cmd->add_option("--baseline", o->baseline, "baseline model (display name)")->required();
  cmd->add_option("--candidates", o->candidates, "candidate models, comma-separated (default: all others)")
      ->delimiter(',');
  cmd->add_option(
         "--policy", o->policy,
         "policy JSON: {\"alpha\", \"default_margin\", \"auto_margin\", \"suites\": {NAME: {\"margin\"}}, "
         "\"throughput\": {\"shape\", \"load_kind\", \"load\", \"min_ratio\"}, \"bootstrap\"} (docs/REPORTS.md)")
      ->required();
  cmd->add_option("--runs", o->runs, "runs to use, comma-separated (default: all; the latest run wins)")
      ->delimiter(',');
  cmd->add_flag("--json", o->json, "print the decision as JSON on stdout instead of text");
  cmd->callback([o, &exit_code] {
    if (!file_exists(o->policy))
      throw Error(ErrorCode::usage,
                  "gate policy '" + o->policy + "' does not exist; pass a policy JSON file with --policy");
    auto policy = reports::parse_gate_policy(read_json_file(o->policy), o->policy);
    policy.origin = "policy " + o->policy;
    reports::ResultsDb db(o->db);
    auto study = reports::collect_study(db, db.select_runs(o->runs), o->baseline);
    auto decision = reports::run_gate(study, o->candidates, policy);
    std::string out = o->json ? reports::render_gate_json(decision) : reports::render_gate_text(decision, policy);
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    exit_code = reports::gate_exit_code(decision);
  });
}

}  // namespace hb::cli
