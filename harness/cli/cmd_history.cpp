// hybench history: the trend of one model's metric over runs, as a table (stdout) and an SVG.
#include <cstdio>
#include <memory>
#include <string>

#include "harness/base/error.h"
#include "harness/base/files.h"
#include "harness/cli/commands.h"
#include "reports/history.h"
#include "reports/results_db.h"

namespace hb::cli {

void add_history_command(CLI::App& root, int& exit_code) {
  auto* cmd = root.add_subcommand("history", "Trend of one model's metric over runs: a table and an SVG");
  cmd->footer(
      "Quality metrics come from the metrics table; perf metrics (output_tok_per_s, ttft_ms.p50, ...) are\n"
      "medians over repeats per workload point. See docs/REPORTS.md.");
  struct Opts {
    std::string db = "hybench.db";
    std::string model, metric, svg;
    bool force = false;
  };
  auto o = std::make_shared<Opts>();
  cmd->add_option("--db", o->db, "results database (an existing file)")->capture_default_str();
  cmd->add_option("--model", o->model, "model (display name)")->required();
  cmd->add_option("--metric", o->metric, "metric, e.g. accuracy/flexible or output_tok_per_s")->required();
  cmd->add_option("--svg", o->svg, "where to write the SVG (default: history-MODEL-METRIC.svg)");
  cmd->add_flag("--force", o->force, "overwrite the SVG when it exists (otherwise an existing file is an error)");
  cmd->callback([o, &exit_code] {
    reports::ResultsDb db(o->db);
    auto points = reports::metric_history(db, o->model, o->metric);
    std::string table = reports::render_history_table(points, o->model, o->metric);
    if (o->svg.empty()) o->svg = reports::default_history_svg_name(o->model, o->metric);
    if (file_exists(o->svg) && !o->force)
      throw Error(ErrorCode::usage, "'" + o->svg + "' exists; pass --force to overwrite it or --svg PATH for another file");
    write_file(o->svg, reports::render_history_svg(points, o->model, o->metric));
    std::fwrite(table.data(), 1, table.size(), stdout);
    std::printf("svg: %s\n", o->svg.c_str());
    std::fflush(stdout);
    exit_code = kExitOk;
  });
}

}  // namespace hb::cli
