#pragma once
// The trend of one model's metric over runs (nightly history): quality metrics from the metrics table,
// or a perf metric (e.g. output_tok_per_s, ttft_ms.p50) as the median over repeats per workload point.
#include <optional>
#include <string>
#include <vector>

#include "reports/results_db.h"

namespace hb::reports {

struct HistoryPoint {
  std::string run;
  int64_t run_id = 0;
  std::string started_at;  // the run's start (ISO-8601 UTC), "" when unknown
  std::string series;  // suite label, or "shape load_kind=load" for perf metrics
  int64_t n = 0;       // items, or repeats for perf
  double value = 0;
  std::optional<double> se;
};

// Points in run order (id), then series. Unknown model or metric throws with a short did-you-mean (the
// closest few names and how many there are, never the whole list of metrics).
std::vector<HistoryPoint> metric_history(const ResultsDb& db, const std::string& model, const std::string& metric);
std::string render_history_table(const std::vector<HistoryPoint>& points, const std::string& model,
                                 const std::string& metric);
// The default SVG name for a model and metric: history-MODEL-METRIC.svg with unsafe characters replaced.
std::string default_history_svg_name(const std::string& model, const std::string& metric);
// x: one integer tick per run, labelled with the run name and its date.
std::string render_history_svg(const std::vector<HistoryPoint>& points, const std::string& model,
                               const std::string& metric);

}  // namespace hb::reports
