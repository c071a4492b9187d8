#pragma once
// summary.md and summary.json: one row per run x model x suite x metric, straight from the metrics table, plus
// (schema 2) what a dashboard or CI job needs to read the decision without the HTML: the Pareto frontier per
// shape, throughput per model and shape, and the gate decision with its rule. Pure functions of their inputs;
// byte-identical output for identical inputs.
#include <optional>
#include <string>
#include <vector>

#include "reports/gate.h"
#include "reports/pareto.h"
#include "reports/results_db.h"
#include "reports/stats/intervals.h"
#include "reports/study_data.h"

namespace hb::reports {

// 2: adds ci95 per row, "baseline", "frontier", "throughput" and "decision" (docs/REPORTS.md).
inline constexpr int kSummarySchemaVersion = 2;

// {"schema_version": 2, "rows": [{"run", "model", "suite", "variant", "metric", "n", "value", "stderr", "ci95"}],
//  "baseline", "frontier": [...], "throughput": [...], "decision": {...} or null}
// Values are rounded to 6 decimals; a missing value or stderr is null. Rows keep the given order. Without a
// study the frontier and throughput lists are empty.
std::string render_summary_json(const std::vector<MetricRow>& rows, const StudyData* study = nullptr,
                                 const std::vector<ParetoPanel>* panels = nullptr,
                                 const GateDecision* decision = nullptr);
// A markdown page: the decision (when given), the score table (value, stderr, 95% CI) and the runs it covers.
std::string render_summary_md(const std::vector<RunInfo>& runs, const std::vector<MetricRow>& rows,
                              const GateDecision* decision = nullptr);
// The 95% interval shown for a stored metric: Wilson (effective n) inside [0, 1] for values in [0, 1], else
// value +- 1.96 stderr. Empty when value or stderr is missing.
std::optional<stats::Interval> row_interval(const MetricRow& r);

}  // namespace hb::reports
