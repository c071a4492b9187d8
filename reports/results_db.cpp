#include "reports/results_db.h"

#include <sys/stat.h>

#include <algorithm>
#include <tuple>

#include "harness/base/error.h"
#include "harness/base/strings.h"
#include "harness/store/sqlite.h"
#include "harness/store/store.h"

namespace hb::reports {
namespace {

nlohmann::json parse_json_or(const std::string& text, nlohmann::json fallback) {
  if (text.empty()) return fallback;
  auto j = nlohmann::json::parse(text, nullptr, false);
  return j.is_discarded() ? fallback : j;
}

std::optional<int64_t> opt_int(const store::Stmt& s, int col) {
  return s.is_null(col) ? std::nullopt : std::optional<int64_t>(s.int64(col));
}
std::optional<double> opt_real(const store::Stmt& s, int col) {
  return s.is_null(col) ? std::nullopt : std::optional<double>(s.real(col));
}

std::optional<double> as_number(const nlohmann::json& j) {
  if (j.is_number()) return j.get<double>();
  if (j.is_boolean()) return j.get<bool>() ? 1.0 : 0.0;
  return std::nullopt;
}

std::string id_list(const std::vector<RunInfo>& runs) {
  std::string s;
  for (const auto& r : runs) s += (s.empty() ? "" : ",") + std::to_string(r.id);
  return s.empty() ? "-1" : s;
}

}  // namespace

std::string ModelInfo::ratio_label() const {
  if (attention_layers && mamba_layers)
    return std::to_string(*mamba_layers) + "/" + std::to_string(*attention_layers + *mamba_layers) + " Mamba";
  if (layout && !layout->empty()) {
    auto m = std::count(layout->begin(), layout->end(), 'M');
    return std::to_string(m) + "/" + std::to_string(layout->size()) + " Mamba";
  }
  return "";
}

std::optional<double> ModelInfo::mamba_fraction() const {
  if (attention_layers && mamba_layers && *attention_layers + *mamba_layers > 0)
    return static_cast<double>(*mamba_layers) / static_cast<double>(*attention_layers + *mamba_layers);
  if (layout && !layout->empty())
    return static_cast<double>(std::count(layout->begin(), layout->end(), 'M')) / static_cast<double>(layout->size());
  return std::nullopt;
}

std::string SuiteInfo::label() const { return variant.empty() ? name : name + "/" + variant; }

std::optional<double> PerfPoint::get(const std::string& key, const std::string& stat) const {
  if (!metrics.is_object()) return std::nullopt;
  auto it = metrics.find(key);
  if (it == metrics.end()) return std::nullopt;
  if (stat.empty()) {
    if (auto v = as_number(*it)) return v;
    if (it->is_object() && it->contains("mean")) return as_number((*it)["mean"]);
    return std::nullopt;
  }
  if (!it->is_object()) return std::nullopt;
  auto s = it->find(stat);
  return s == it->end() ? std::nullopt : as_number(*s);
}

ResultsDb::ResultsDb(const std::string& path) : path_(path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw Error(ErrorCode::not_found, "database '" + path +
                                          "' does not exist; pass the --db of an existing hybench database "
                                          "(reports never create one)");
  if (S_ISDIR(st.st_mode))
    throw Error(ErrorCode::usage, "--db '" + path + "' is a directory; pass the database file inside it");
  db_ = std::make_unique<store::Db>(path, store::Db::Mode::read_only);
  auto v = db_->prepare("PRAGMA user_version");
  v.step();
  int64_t version = v.int64(0);
  if (version == 0)
    throw Error(ErrorCode::usage, "'" + path +
                                      "' is an SQLite file without the hybench schema (user_version 0); "
                                      "pass a database written by hybench");
  if (version > store::Store::schema_version())
    throw Error(ErrorCode::usage, "database '" + path + "' has schema version " + std::to_string(version) +
                                      ", newer than this hybench supports (" +
                                      std::to_string(store::Store::schema_version()) + "); upgrade hybench");
  auto s = db_->prepare(
      "SELECT id, name, kind, status, COALESCE(git_sha,''), config_hash, config_json, COALESCE(environment_json,''), "
      "COALESCE(started_at,''), "
      "(SELECT COUNT(*) FROM samples x WHERE x.run_id = runs.id), "
      "(SELECT COUNT(*) FROM samples x WHERE x.run_id = runs.id AND x.error_kind IS NOT NULL) "
      "FROM runs ORDER BY id");
  while (s.step()) {
    RunInfo r;
    r.id = s.int64(0);
    r.name = s.text(1);
    r.kind = s.text(2);
    r.status = s.text(3);
    r.git_sha = s.text(4);
    r.config_hash = s.text(5);
    r.config = parse_json_or(s.text(6), nlohmann::json::object());
    r.environment = parse_json_or(s.text(7), nlohmann::json::object());
    r.started_at = s.text(8);
    r.samples = s.int64(9);
    r.failed_samples = s.int64(10);
    runs_.push_back(std::move(r));
  }
  if (runs_.empty())
    throw Error(ErrorCode::usage,
                "database '" + path + "' holds no runs; run `hybench eval` (or a sweep) into it first");
}

ResultsDb::~ResultsDb() = default;

const RunInfo& ResultsDb::run(const std::string& name) const {
  for (const auto& r : runs_)
    if (r.name == name) return r;
  std::vector<std::string> names;
  for (const auto& r : runs_) names.push_back(r.name);
  std::string hint = did_you_mean(name, names);
  throw Error(ErrorCode::usage, "unknown run '" + name + "' in '" + path_ + "'" + (hint.empty() ? "" : "; " + hint) +
                                    "; runs: " + join(names, ", "));
}

std::vector<RunInfo> ResultsDb::select_runs(const std::vector<std::string>& names) const {
  if (names.empty()) return runs_;
  std::vector<RunInfo> out;
  for (const auto& n : names) {
    const RunInfo& r = run(n);
    bool dup = false;
    for (const auto& o : out) dup = dup || o.id == r.id;
    if (!dup) out.push_back(r);
  }
  return out;
}

std::vector<ModelInfo> ResultsDb::models() const {
  std::vector<ModelInfo> out;
  auto s = db_->prepare(
      "SELECT id, display_name, spec, layout, attention_layers, mamba_layers, params FROM models "
      "ORDER BY display_name, id");
  while (s.step()) {
    ModelInfo m;
    m.id = s.int64(0);
    m.name = s.text(1);
    m.spec = s.text(2);
    if (!s.is_null(3)) m.layout = s.text(3);
    m.attention_layers = opt_int(s, 4);
    m.mamba_layers = opt_int(s, 5);
    m.params = opt_int(s, 6);
    out.push_back(std::move(m));
  }
  return out;
}

std::optional<ModelInfo> ResultsDb::model_by_name(const std::string& name) const {
  for (auto& m : models())
    if (m.name == name) return m;
  return std::nullopt;
}

std::vector<SuiteInfo> ResultsDb::suites() const {
  std::vector<SuiteInfo> out;
  auto s =
      db_->prepare("SELECT id, name, variant, version, prompt_hash FROM suites ORDER BY name, variant, version, id");
  while (s.step()) out.push_back({s.int64(0), s.text(1), s.text(2), s.text(3), s.text(4)});
  return out;
}

std::vector<MetricRow> ResultsDb::metric_rows(const std::vector<RunInfo>& runs) const {
  std::vector<MetricRow> out;
  auto s = db_->prepare(
      "SELECT r.name, m.display_name, s.name, s.variant, x.metric, x.n, x.value, x.stderr, r.id, m.id, s.id "
      "FROM metrics x JOIN runs r ON r.id = x.run_id JOIN models m ON m.id = x.model_id "
      "JOIN suites s ON s.id = x.suite_id WHERE x.run_id IN (" +
      id_list(runs) + ")");
  while (s.step()) {
    MetricRow row;
    row.run = s.text(0);
    row.model = s.text(1);
    row.suite = s.text(2);
    row.variant = s.text(3);
    row.metric = s.text(4);
    row.n = s.int64(5);
    row.value = opt_real(s, 6);
    row.stderr_ = opt_real(s, 7);
    row.run_id = s.int64(8);
    row.model_id = s.int64(9);
    row.suite_id = s.int64(10);
    out.push_back(std::move(row));
  }
  // Byte-wise ordering in C++ (not SQLite collation) so the order never depends on the SQLite build.
  std::sort(out.begin(), out.end(), [](const MetricRow& a, const MetricRow& b) {
    return std::tie(a.run, a.model, a.model_id, a.suite, a.variant, a.suite_id, a.metric) <
           std::tie(b.run, b.model, b.model_id, b.suite, b.variant, b.suite_id, b.metric);
  });
  return out;
}

std::vector<PerfPoint> ResultsDb::perf_points(const std::vector<RunInfo>& runs) const {
  std::vector<PerfPoint> out;
  auto s = db_->prepare(
      "SELECT r.name, m.display_name, p.run_id, p.model_id, p.point_key, p.shape, p.load_kind, p.status, "
      "p.load_value, p.repeat_index, COALESCE(p.requests,0), COALESCE(p.errors,0), COALESCE(p.metrics_json,''), "
      "COALESCE(p.settings_json,'') FROM perf_points p JOIN runs r ON r.id = p.run_id "
      "JOIN models m ON m.id = p.model_id WHERE p.run_id IN (" +
      id_list(runs) + ")");
  while (s.step()) {
    PerfPoint p;
    p.run = s.text(0);
    p.model = s.text(1);
    p.run_id = s.int64(2);
    p.model_id = s.int64(3);
    p.point_key = s.text(4);
    p.shape = s.text(5);
    p.load_kind = s.text(6);
    p.status = s.text(7);
    p.load_value = s.real(8);
    p.repeat_index = static_cast<int>(s.int64(9));
    p.requests = s.int64(10);
    p.errors = s.int64(11);
    p.metrics = parse_json_or(s.text(12), nlohmann::json::object());
    p.settings = parse_json_or(s.text(13), nlohmann::json::object());
    out.push_back(std::move(p));
  }
  std::sort(out.begin(), out.end(), [](const PerfPoint& a, const PerfPoint& b) {
    return std::tie(a.run, a.model, a.model_id, a.shape, a.load_kind, a.load_value, a.repeat_index, a.point_key) <
           std::tie(b.run, b.model, b.model_id, b.shape, b.load_kind, b.load_value, b.repeat_index, b.point_key);
  });
  return out;
}

std::vector<std::string> ResultsDb::sample_metrics(int64_t run_id, int64_t model_id, int64_t suite_id) const {
  std::vector<std::string> out;
  auto s = db_->prepare(
      "SELECT DISTINCT j.key FROM samples, json_each(samples.scores_json) j WHERE run_id=?1 AND model_id=?2 AND "
      "suite_id=?3 AND error_kind IS NULL AND json_valid(scores_json)");
  s.bind(1, run_id).bind(2, model_id).bind(3, suite_id);
  while (s.step()) out.push_back(s.text(0));
  std::sort(out.begin(), out.end());
  return out;
}

ItemScores ResultsDb::item_scores(int64_t run_id, int64_t model_id, int64_t suite_id, const std::string& metric) const {
  ItemScores out;
  auto s = db_->prepare(
      "SELECT item_id, sample_index, scores_json FROM samples WHERE run_id=?1 AND model_id=?2 AND suite_id=?3 "
      "AND error_kind IS NULL ORDER BY item_id, sample_index");
  s.bind(1, run_id).bind(2, model_id).bind(3, suite_id);
  while (s.step()) {
    auto scores = parse_json_or(s.text(2), nlohmann::json());
    if (!scores.is_object() || !scores.contains(metric)) continue;
    if (auto v = as_number(scores[metric])) out[s.text(0)].push_back(*v);
  }
  return out;
}

std::vector<std::pair<int64_t, int64_t>> ResultsDb::sampled_pairs(int64_t run_id) const {
  std::vector<std::pair<int64_t, int64_t>> out;
  auto s = db_->prepare("SELECT DISTINCT model_id, suite_id FROM samples WHERE run_id=?1 ORDER BY model_id, suite_id");
  s.bind(1, run_id);
  while (s.step()) out.emplace_back(s.int64(0), s.int64(1));
  return out;
}

}  // namespace hb::reports
