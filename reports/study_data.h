#pragma once
// StudyData: everything the report, the gate and the Pareto plot need from the selected runs, gathered once
// from a ResultsDb into plain values. When a model x suite (or a model's perf shape) appears in several
// selected runs, the latest run (highest id) wins.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "reports/importance_data.h"
#include "reports/results_db.h"

namespace hb::reports {

// The headline score of one model on one suite.
struct SuiteScore {
  std::string suite;   // SuiteInfo::label()
  std::string metric;  // the suite's primary metric
  std::string run;
  int64_t n = 0;
  double value = 0;
  double se = 0;
  int samples_per_item = 1;  // max samples per item (>1: multi-sample suite, SE over problems)
  double full_scale = 1;     // 10 for rating suites (an item value above 1 in any model, e.g. MT-Bench 1-10)
  double normalized() const { return value / full_scale; }
  double normalized_se() const { return se / full_scale; }
};

// One load level of one workload shape, aggregated over its repeats (medians).
struct PerfLevel {
  std::string shape, load_kind, run;
  double load = 0;
  int repeats = 0;
  int64_t requests = 0, errors = 0;
  std::vector<double> output_tok_per_s;  // one per repeat, ascending
  double median_output_tok_per_s = 0;
  std::optional<double> per_user_tok_per_s;  // median of 1000 / tpot_ms.mean, else output / concurrency
  std::map<std::string, double> latency_ms;  // "ttft_ms.p50" -> median over repeats, for the keys present
  std::map<std::string, std::vector<double>> latency_repeats;  // the same keys, one value per repeat
};

struct ModelData {
  ModelInfo info;
  std::vector<SuiteScore> scores;           // by suite label
  std::map<std::string, ItemScores> items;  // suite label -> per-item scores of the primary metric
  // suite label -> metric -> per-item scores, for every metric in the samples (gates may pick another metric)
  std::map<std::string, std::map<std::string, ItemScores>> metric_items;
  std::vector<PerfLevel> perf;  // by shape, load kind, load
};

struct StudyData {
  std::vector<RunInfo> runs;
  std::vector<SuiteInfo> suites;    // suites with scores in the selected runs
  std::vector<ModelData> models;    // by display name
  std::string baseline;             // display name ("" when no model has data)
  std::vector<std::string> shapes;  // workload shapes with perf data, sorted
  std::vector<std::string> warnings;
  std::vector<ImportanceSweep> importance;  // layer-importance sweeps of the selected runs (hybench importance)
  const ModelData* model(const std::string& name) const;
};

// The primary metric among a suite's metrics: "accuracy", else "score" (MT-Bench), else the first name in byte
// order. Keys that are not metrics ("answer", stored for majority voting) are never chosen.
std::string primary_metric(const std::vector<std::string>& metrics);
// The keys read from perf_points.metrics_json, tolerant of missing ones.
std::optional<double> output_tok_per_s(const PerfPoint& p);

// Gathers the selected runs. `baseline` "" picks the model with the fewest Mamba layers (ties: name order);
// an unknown baseline name throws with a did-you-mean.
StudyData collect_study(const ResultsDb& db, const std::vector<RunInfo>& runs, const std::string& baseline);

// The level with the highest median output throughput of a model at a shape (nullptr when none).
const PerfLevel* peak_level(const ModelData& m, const std::string& shape);
// Median output tok/s of a model at one exact load level (nullptr when absent).
const PerfLevel* level_at(const ModelData& m, const std::string& shape, const std::string& load_kind, double load);

}  // namespace hb::reports
