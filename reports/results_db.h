#pragma once
// ResultsDb: a read-only view of a hybench database for reports, gates and comparisons. It never creates
// or migrates a file: a missing path, a file that is not SQLite, a database without the hybench schema and
// a database without runs are each one clear hb::Error. Everything it returns is plain data, ordered
// deterministically, so the renderers downstream are pure functions.
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace hb::store {
class Db;
}

namespace hb::reports {

struct RunInfo {
  int64_t id = 0;
  std::string name;
  std::string kind;
  std::string status;
  std::string git_sha;
  std::string config_hash;
  std::string started_at;  // ISO-8601 UTC ("" when unknown)
  int64_t samples = 0, failed_samples = 0;  // stored samples, and those stored with an error (not scored)
  nlohmann::json config = nlohmann::json::object();
  nlohmann::json environment = nlohmann::json::object();
};

struct ModelInfo {
  int64_t id = 0;
  std::string name;  // display name
  std::string spec;
  std::optional<std::string> layout;
  std::optional<int64_t> attention_layers, mamba_layers, params;
  // "12/50 Mamba" from the layer counts or the layout; "" when unknown.
  std::string ratio_label() const;
  // Mamba layers / all layers, when known.
  std::optional<double> mamba_fraction() const;
};

struct SuiteInfo {
  int64_t id = 0;
  std::string name, variant, version, prompt_hash;
  // "gsm8k" or "gsm8k/cot8" when the variant is not empty.
  std::string label() const;
};

// One row of the metrics table, with names resolved.
struct MetricRow {
  std::string run, model, suite, variant, metric;
  int64_t run_id = 0, model_id = 0, suite_id = 0;
  int64_t n = 0;
  std::optional<double> value, stderr_;
};

// One perf point (one workload shape x load level x repeat) of one model in one run.
struct PerfPoint {
  std::string run, model;
  int64_t run_id = 0, model_id = 0;
  std::string point_key, shape, load_kind, status;
  double load_value = 0;
  int repeat_index = 0;
  int64_t requests = 0, errors = 0;
  nlohmann::json metrics = nlohmann::json::object();
  nlohmann::json settings = nlohmann::json::object();
  // A scalar metric: metrics[key] when it is a number, or metrics[key][stat] (stat "mean", "p50", ...).
  std::optional<double> get(const std::string& key, const std::string& stat = "") const;
};

// Per-item scores of one metric: item id -> one score per error-free sample, in sample order.
using ItemScores = std::map<std::string, std::vector<double>>;

class ResultsDb {
 public:
  explicit ResultsDb(const std::string& path);
  ~ResultsDb();
  ResultsDb(const ResultsDb&) = delete;
  ResultsDb& operator=(const ResultsDb&) = delete;

  const std::string& path() const { return path_; }
  // All runs in id order (throws when there is none).
  const std::vector<RunInfo>& runs() const { return runs_; }
  // The runs named, in the order given; an unknown name throws with a did-you-mean and the list of runs.
  // An empty list selects every run.
  std::vector<RunInfo> select_runs(const std::vector<std::string>& names) const;
  const RunInfo& run(const std::string& name) const;

  std::vector<ModelInfo> models() const;  // by display name, then id
  std::optional<ModelInfo> model_by_name(const std::string& name) const;
  std::vector<SuiteInfo> suites() const;  // by name, variant, version, id

  // Metrics rows of the given runs, ordered by run name, model, suite, variant, metric.
  std::vector<MetricRow> metric_rows(const std::vector<RunInfo>& runs) const;
  // Perf points of the given runs, ordered by run, model, shape, load kind, load value, repeat.
  std::vector<PerfPoint> perf_points(const std::vector<RunInfo>& runs) const;
  // Metric names present in the error-free samples of one run x model x suite (sorted).
  std::vector<std::string> sample_metrics(int64_t run_id, int64_t model_id, int64_t suite_id) const;
  // Per-item scores of one metric in one run x model x suite (error-free samples only).
  ItemScores item_scores(int64_t run_id, int64_t model_id, int64_t suite_id, const std::string& metric) const;
  // (model id, suite id) pairs that have samples in a run.
  std::vector<std::pair<int64_t, int64_t>> sampled_pairs(int64_t run_id) const;
  // The read-only connection, for readers kept in their own files (reports/importance_data.cpp).
  store::Db& connection() const { return *db_; }

 private:
  std::string path_;
  std::unique_ptr<store::Db> db_;
  std::vector<RunInfo> runs_;
};

}  // namespace hb::reports
