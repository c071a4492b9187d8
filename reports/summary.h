#pragma once
// summary.md and summary.json: one row per run x model x suite x metric, straight from the metrics table.
// Pure functions of their inputs; byte-identical output for identical inputs.
#include <string>
#include <vector>

#include "reports/results_db.h"

namespace hb::reports {

inline constexpr int kSummarySchemaVersion = 1;

// {"schema_version": 1, "rows": [{"run", "model", "suite", "variant", "metric", "n", "value", "stderr"}, ...]}
// Values are rounded to 6 decimals; a missing value or stderr is null. Rows keep the given order.
std::string render_summary_json(const std::vector<MetricRow>& rows);
// A markdown page: the score table (value, stderr, 95% CI = value +- 1.96 stderr) and the runs it covers.
std::string render_summary_md(const std::vector<RunInfo>& runs, const std::vector<MetricRow>& rows);

}  // namespace hb::reports
