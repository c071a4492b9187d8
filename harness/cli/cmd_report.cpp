// hybench report: summary tables (and, as they land, plots and the HTML page) from a results database.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "harness/base/error.h"
#include "harness/base/files.h"
#include "harness/cli/commands.h"
#include "reports/report.h"
#include "reports/results_db.h"

namespace hb::cli {

void add_report_command(CLI::App& root, int& exit_code) {
  auto* cmd =
      root.add_subcommand("report", "Write summary tables, the Pareto plot and an HTML page from stored results");
  cmd->footer(
      "Writes DIR/summary.md and DIR/summary.json (one row per run x model x suite x metric), DIR/pareto.svg\n"
      "(quality vs throughput relative to the baseline, per workload shape) and DIR/index.html (one self-contained\n"
      "page: recommendation, plots, scores with 95% CIs, provenance). Reads the database only; never creates one.\n"
      "See docs/REPORTS.md.");
  struct Opts {
    std::string db = "hybench.db";
    std::vector<std::string> runs;
    std::string out;
    std::string baseline;
    std::string policy;
  };
  auto opts = std::make_shared<Opts>();
  cmd->add_option("--db", opts->db, "results database (an existing file)")->capture_default_str();
  cmd->add_option("--runs", opts->runs, "runs to report, comma-separated (default: all)")->delimiter(',');
  cmd->add_option("--out", opts->out, "output folder (created when missing)")->required();
  cmd->add_option("--baseline", opts->baseline,
                  "baseline model (display name) for relative throughput; default: the one with the fewest Mamba "
                  "layers");
  cmd->add_option("--policy", opts->policy,
                  "gate policy JSON for the page's decision (default: the default gate, labelled as such)");
  cmd->callback([opts, &exit_code] {
    reports::ReportOptions ro;
    if (!opts->policy.empty()) {
      if (!file_exists(opts->policy))
        throw Error(ErrorCode::usage,
                    "gate policy '" + opts->policy + "' does not exist; pass a policy JSON file with --policy");
      ro.gate_policy = read_json_file(opts->policy);
      ro.gate_source = opts->policy;
    }
    reports::ResultsDb db(opts->db);
    ro.runs = opts->runs;
    ro.out_dir = opts->out;
    ro.baseline = opts->baseline;
    auto files = reports::write_report(db, ro);
    for (const auto& f : files) std::printf("%s\n", f.c_str());
    std::fflush(stdout);
    exit_code = kExitOk;
  });
}

}  // namespace hb::cli
