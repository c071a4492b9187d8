#pragma once
// Nightly regression verdict between two runs (base and head) of the same models.
// Quality: per model x suite, the paired difference on the items both runs answered (McNemar for single
// binary samples, paired bootstrap over problems otherwise), Holm-corrected over every quality test; a
// regression needs a Holm-adjusted p <= alpha AND a drop larger than min_delta.
// Throughput and latency: per model x workload point, the median over repeats; a regression needs the median
// ratio outside the noise band (max(min band, relative range of the base repeats + that of the head repeats))
// AND, with 3 or more repeats on both sides, a one-sided Mann-Whitney p <= alpha.
#include <optional>
#include <string>
#include <vector>

#include "reports/study_data.h"

namespace hb::reports {

struct CompareOptions {
  double alpha = 0.05;
  double min_delta = 0.01;         // quality drops at or below this (absolute) are never regressions
  double min_band = 0.03;          // smallest relative noise band for throughput
  double min_band_latency = 0.05;  // smallest relative noise band for latency percentiles (noisier)
  // Test of throughput and latency repeats: "mann-whitney" (no distribution assumed; needs 3+ repeats a
  // side and cannot go below p 0.05 with 3) or "welch-log" (Welch's t on log values; 2+ repeats a side;
  // assumes roughly log-normal repeats). See docs/REPORTS.md.
  std::string perf_test = "mann-whitney";
  int iterations = 10000;
  uint64_t seed = 20240917;
};

struct QualityDelta {
  std::string model, suite, metric, method;
  int64_t n = 0;
  double base = 0, head = 0, delta = 0, ci_low = 0, ci_high = 0, p = 1, p_holm = 1;
  std::string ci_method;  // "Newcombe paired score" (single binary samples) or "paired bootstrap percentile"
  bool regression = false, improvement = false;
  std::string decided_by;  // the number that decided the verdict next to its threshold, and why when it is subtle
};

struct PerfDelta {
  std::string model, shape, load_kind, metric;
  double load = 0;
  bool higher_is_better = true;
  int base_repeats = 0, head_repeats = 0;
  double base_median = 0, head_median = 0, ratio = 1, band = 0;
  std::optional<double> p;  // one-sided p of `test` in the bad direction (absent with too few repeats)
  std::string test;         // "Mann-Whitney" or "Welch t on log"
  bool regression = false;
  std::string decided_by;  // the ratio against its band, then the p against alpha when it mattered
};

struct CompareResult {
  std::string base_run, head_run;
  bool regression = false;
  std::vector<QualityDelta> quality;
  std::vector<PerfDelta> perf;
  std::vector<std::string> reasons;  // one line per regression
  std::vector<std::string> notes;    // models or points present in only one run, too few repeats, ...
};

CompareResult compare_runs(const StudyData& base, const StudyData& head, const CompareOptions& options);
std::string render_compare_json(const CompareResult& r);
std::string render_compare_text(const CompareResult& r, const CompareOptions& options);

}  // namespace hb::reports
