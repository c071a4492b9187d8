#include "reports/report.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <system_error>

#include "harness/base/console.h"
#include "harness/base/error.h"
#include "harness/base/files.h"
#include "reports/gate.h"
#include "reports/html_page.h"
#include "reports/importance_chart.h"
#include "reports/pareto.h"
#include "reports/study_data.h"
#include "reports/summary.h"

namespace hb::reports {

void prepare_output_dir(const std::string& out_dir) {
  if (out_dir.empty()) throw Error(ErrorCode::usage, "--out is empty; pass a folder for the report files");
  std::error_code ec;
  std::filesystem::path p(out_dir);
  if (std::filesystem::exists(p, ec) && !std::filesystem::is_directory(p, ec))
    throw Error(ErrorCode::usage, "--out '" + out_dir + "' is a file, not a folder; pass a folder path");
  std::filesystem::create_directories(p, ec);
  if (ec)
    throw Error(ErrorCode::usage,
                "cannot create the output folder '" + out_dir + "': " + ec.message() + "; pass a writable --out");
  if (::access(out_dir.c_str(), W_OK | X_OK) != 0)
    throw Error(ErrorCode::usage, "output folder '" + out_dir + "' is not writable (" + std::strerror(errno) +
                                      "); pass a writable --out");
}

std::vector<std::string> write_report(const ResultsDb& db, const ReportOptions& options) {
  auto runs = db.select_runs(options.runs);
  prepare_output_dir(options.out_dir);
  auto rows = db.metric_rows(runs);
  if (rows.empty()) log_warn("no metrics are stored for the selected runs; the summary tables are empty");
  std::vector<std::string> written;
  auto put = [&](const std::string& name, const std::string& content) {
    std::string path = (std::filesystem::path(options.out_dir) / name).string();
    write_file(path, content);
    written.push_back(path);
  };
  StudyData study = collect_study(db, runs, options.baseline);
  auto panels = compute_pareto(study);
  // The headline decision: the study's gate policy when it has one, else the default gate (non-inferior on
  // every suite of the baseline within 2 points or the baseline's own 95% CI half-width when larger, ranked
  // by peak throughput at the first shape), labelled as such.
  GatePolicy policy;
  if (!options.gate_policy.is_null()) {
    policy = parse_gate_policy(options.gate_policy, options.gate_source);
    policy.origin = "study gate policy (" + options.gate_source + ")";
  } else {
    policy.auto_margin = true;
    if (!study.shapes.empty()) policy.shape = study.shapes.front();
    policy.origin = "default gate (the study has no gate policy)";
  }
  std::optional<GateDecision> decision;
  const ModelData* base = study.model(study.baseline);
  if (base && !base->scores.empty() && study.models.size() > 1) decision = run_gate(study, {}, policy);
  const GateDecision* dp = decision ? &*decision : nullptr;
  put("summary.md", render_summary_md(runs, rows, dp));
  put("summary.json", add_importance_to_summary_json(render_summary_json(rows, &study, &panels, dp), study.importance));
  put("pareto.svg", render_pareto_svg(panels));
  put("index.html", render_index_html(study, panels, dp, &policy));
  return written;
}

}  // namespace hb::reports
