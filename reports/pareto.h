#pragma once
// The quality-versus-throughput Pareto frontier. x is a model's peak output throughput at one workload
// shape relative to the baseline's (baseline = 1x); y is its score (the average over the suites every
// plotted model has, or one suite). A point is dominated only when another point is at least as good on
// both axes and significantly better on one: quality by a z-test at 95% on the difference, throughput
// beyond the noise band of the repeats (at least 3%).
#include <string>
#include <vector>

#include "reports/study_data.h"

namespace hb::reports {

struct ParetoPoint {
  std::string model, ratio_label;
  double x = 0, x_low = 0, x_high = 0;  // relative throughput; low/high from the repeats' min/max
  double y = 0, y_se = 0;
  double y_low = 0, y_high = 0;  // 95% interval inside [0, 1] (stats::score_interval)
  int64_t n = 0;                 // items behind y (the smallest suite for an average)
  double tok_per_s = 0;  // absolute peak median output tok/s
  bool frontier = true;
  std::string dominated_by;
};

struct ParetoPanel {
  std::string shape;
  std::string suite;                // "average" or a suite label
  std::vector<std::string> suites;  // suites averaged
  std::string baseline;
  bool log_x = false;               // the x range passes 5x
  std::vector<ParetoPoint> points;  // by x, then name
};

// One average panel and one panel per suite for every shape where the baseline has perf data.
std::vector<ParetoPanel> compute_pareto(const StudyData& study);
// Marks frontier points in place (see the file comment for the domination rule).
void mark_frontier(std::vector<ParetoPoint>& points);
// pareto.svg: per shape, the average panel first, then one panel per suite, at most kParetoColumns per row.
inline constexpr size_t kParetoColumns = 2;
std::string render_pareto_svg(const std::vector<ParetoPanel>& panels);
// The panels as <g> elements for inlining (same drawing, without the <svg> wrapper).
std::string render_pareto_body(const std::vector<ParetoPanel>& panels, double& width, double& height);

}  // namespace hb::reports
