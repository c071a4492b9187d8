#include "reports/study_data.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <tuple>

#include "harness/base/error.h"
#include "harness/base/strings.h"
#include "reports/format.h"
#include "reports/stats/intervals.h"

namespace hb::reports {
namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string lower(const std::string& s) { return to_lower(s); }

}  // namespace

const ModelData* StudyData::model(const std::string& name) const {
  for (const auto& m : models)
    if (m.info.name == name) return &m;
  return nullptr;
}

std::string primary_metric(const std::vector<std::string>& metrics) {
  for (const char* preferred : {"accuracy", "score"})
    for (const auto& m : metrics)
      if (m == preferred) return m;
  std::string best;
  for (const auto& m : metrics)
    if (m != "answer" && (best.empty() || m < best)) best = m;
  return best;
}

std::optional<double> output_tok_per_s(const PerfPoint& p) {
  for (const char* key :
       {"output_tok_per_s", "output_tokens_per_s", "output_throughput", "output_throughput_tok_per_s"})
    if (auto v = p.get(key)) return v;
  return std::nullopt;
}

const PerfLevel* peak_level(const ModelData& m, const std::string& shape) {
  const PerfLevel* best = nullptr;
  for (const auto& l : m.perf)
    if (l.shape == shape && (!best || l.median_output_tok_per_s > best->median_output_tok_per_s)) best = &l;
  return best;
}

const PerfLevel* level_at(const ModelData& m, const std::string& shape, const std::string& load_kind, double load) {
  for (const auto& l : m.perf)
    if (l.shape == shape && l.load_kind == load_kind && std::fabs(l.load - load) < 1e-9) return &l;
  return nullptr;
}

StudyData collect_study(const ResultsDb& db, const std::vector<RunInfo>& runs_in, const std::string& baseline) {
  StudyData out;
  out.runs = runs_in;
  std::sort(out.runs.begin(), out.runs.end(), [](const RunInfo& a, const RunInfo& b) { return a.id < b.id; });
  out.importance = load_importance(db, out.runs);
  auto models = db.models();
  auto suites = db.suites();
  std::map<int64_t, const SuiteInfo*> suite_by_id;
  for (const auto& s : suites) suite_by_id[s.id] = &s;
  std::map<int64_t, ModelData> by_id;
  std::set<int64_t> used_suites;

  // Quality: latest run per (model, suite) among the selected runs that has samples.
  std::map<std::pair<int64_t, int64_t>, const RunInfo*> latest;
  for (const auto& r : out.runs)
    for (const auto& ms : db.sampled_pairs(r.id)) latest[ms] = &r;
  for (const auto& [key, run] : latest) {
    auto [model_id, suite_id] = key;
    const SuiteInfo* suite = suite_by_id.count(suite_id) ? suite_by_id[suite_id] : nullptr;
    if (!suite) continue;
    auto metrics = db.sample_metrics(run->id, model_id, suite_id);
    metrics.erase(std::remove(metrics.begin(), metrics.end(), "answer"), metrics.end());
    auto metric = primary_metric(metrics);
    if (metric.empty()) continue;
    ItemScores items = db.item_scores(run->id, model_id, suite_id, metric);
    if (items.empty()) continue;
    std::vector<std::vector<double>> per_item;
    int k = 1;
    for (const auto& [id, v] : items) {
      per_item.push_back(v);
      k = std::max(k, static_cast<int>(v.size()));
    }
    auto est = stats::over_items(per_item);
    SuiteScore sc;
    sc.suite = suite->label();
    sc.metric = metric;
    sc.run = run->name;
    sc.n = est.n;
    sc.value = est.mean;
    sc.se = est.se;
    sc.samples_per_item = k;
    auto& md = by_id[model_id];
    // One score per suite label: with two versions of a suite, the latest run's wins (and a warning says so).
    auto same =
        std::find_if(md.scores.begin(), md.scores.end(), [&](const SuiteScore& x) { return x.suite == sc.suite; });
    if (same != md.scores.end()) {
      int64_t other_run = 0;
      for (const auto& r : out.runs)
        if (r.name == same->run) other_run = r.id;
      if (other_run > run->id) continue;
      md.scores.erase(same);
    }
    md.scores.push_back(sc);
    md.metric_items[sc.suite].clear();
    for (const auto& other : metrics)
      md.metric_items[sc.suite][other] = other == metric ? items : db.item_scores(run->id, model_id, suite_id, other);
    md.items[sc.suite] = std::move(items);
    used_suites.insert(suite_id);
  }

  // Perf: latest run per (model, shape).
  auto points = db.perf_points(out.runs);
  std::map<std::pair<int64_t, std::string>, int64_t> perf_run;
  for (const auto& p : points) {
    auto& r = perf_run[{p.model_id, p.shape}];
    r = std::max(r, p.run_id);
  }
  std::map<std::tuple<int64_t, std::string, std::string, double>, std::vector<const PerfPoint*>> groups;
  int64_t failed_points = 0;
  std::set<std::string> reference_kernels;
  for (const auto& p : points) {
    std::string settings = lower(p.settings.dump());
    if (settings.find("cpu-reference") != std::string::npos || settings.find("cpu_reference") != std::string::npos)
      reference_kernels.insert(p.model);
  }
  for (const auto& m : reference_kernels)
    out.warnings.push_back("perf points of " + m + " ran on CPU reference kernels; throughput is not representative");
  for (const auto& p : points) {
    if (perf_run[{p.model_id, p.shape}] != p.run_id) continue;
    if (p.status != "finished" || !output_tok_per_s(p)) {
      ++failed_points;
      continue;
    }
    groups[{p.model_id, p.shape, p.load_kind, p.load_value}].push_back(&p);
  }
  if (failed_points)
    out.warnings.push_back(std::to_string(failed_points) +
                           " perf point(s) unfinished or without output_tok_per_s were left out");
  std::set<std::string> shapes;
  for (const auto& [key, pts] : groups) {
    PerfLevel l;
    l.shape = std::get<1>(key);
    l.load_kind = std::get<2>(key);
    l.load = std::get<3>(key);
    l.run = pts.front()->run;
    l.repeats = static_cast<int>(pts.size());
    std::vector<double> per_user;
    std::map<std::string, std::vector<double>> lat;
    for (const auto* p : pts) {
      l.requests += p->requests;
      l.errors += p->errors;
      double tok = *output_tok_per_s(*p);
      l.output_tok_per_s.push_back(tok);
      if (auto tpot = p->get("tpot_ms", "mean"); tpot && *tpot > 0)
        per_user.push_back(1000.0 / *tpot);
      else if (l.load_kind == "concurrency" && l.load > 0)
        per_user.push_back(tok / l.load);
      for (const char* metric : {"ttft_ms", "tpot_ms", "itl_ms", "e2e_ms"})
        for (const char* stat : {"p50", "p90", "p95", "p99"})
          if (auto v = p->get(metric, stat)) lat[std::string(metric) + "." + stat].push_back(*v);
    }
    std::sort(l.output_tok_per_s.begin(), l.output_tok_per_s.end());
    l.median_output_tok_per_s = median(l.output_tok_per_s);
    if (!per_user.empty()) l.per_user_tok_per_s = median(per_user);
    for (auto& [k, v] : lat) l.latency_ms[k] = median(v);
    l.latency_repeats = std::move(lat);
    if (l.repeats < 3)
      out.warnings.push_back("perf " + l.shape + " " + l.load_kind + "=" + fixed(l.load, 0) + " has " +
                             std::to_string(l.repeats) + " repeat(s); 3 or more give a noise band");
    shapes.insert(l.shape);
    by_id[std::get<0>(key)].perf.push_back(std::move(l));
  }
  out.shapes.assign(shapes.begin(), shapes.end());

  // Rating suites (values above 1 in any model) are put on a 0-1 scale for averages and plots.
  std::set<std::string> rating_suites;
  for (const auto& [id, md] : by_id)
    for (const auto& [suite, items] : md.items)
      for (const auto& [item, values] : items)
        for (double v : values)
          if (v > 1) rating_suites.insert(suite);
  for (auto& [id, md] : by_id)
    for (auto& sc : md.scores)
      if (rating_suites.count(sc.suite)) sc.full_scale = 10;

  for (const auto& m : models) {
    auto it = by_id.find(m.id);
    if (it == by_id.end()) continue;
    it->second.info = m;
    std::sort(it->second.scores.begin(), it->second.scores.end(),
              [](const SuiteScore& a, const SuiteScore& b) { return a.suite < b.suite; });
    out.models.push_back(std::move(it->second));
  }
  std::sort(out.models.begin(), out.models.end(), [](const ModelData& a, const ModelData& b) {
    return std::tie(a.info.name, a.info.id) < std::tie(b.info.name, b.info.id);
  });
  for (const auto& s : suites)
    if (used_suites.count(s.id)) out.suites.push_back(s);
  for (size_t i = 1; i < out.suites.size(); ++i)
    if (out.suites[i].label() == out.suites[i - 1].label())
      out.warnings.push_back("suite " + out.suites[i].label() + " appears with two versions or prompt hashes (" +
                             out.suites[i - 1].version + "/" + out.suites[i - 1].prompt_hash + " and " +
                             out.suites[i].version + "/" + out.suites[i].prompt_hash +
                             "); their scores are not comparable: select runs of one version with --runs");
  out.suites.erase(std::unique(out.suites.begin(), out.suites.end(),
                               [](const SuiteInfo& a, const SuiteInfo& b) { return a.label() == b.label(); }),
                   out.suites.end());
  for (size_t i = 1; i < out.models.size(); ++i)
    if (out.models[i].info.name == out.models[i - 1].info.name)
      out.warnings.push_back("two models are named " + out.models[i].info.name + " (specs " +
                             out.models[i - 1].info.spec + " and " + out.models[i].info.spec +
                             "); only the first is reported: give them distinct display names");

  // Baseline.
  if (!baseline.empty()) {
    if (!out.model(baseline)) {
      std::vector<std::string> names;
      for (const auto& m : out.models) names.push_back(m.info.name);
      std::string hint = did_you_mean(baseline, names);
      throw Error(ErrorCode::usage, "baseline model '" + baseline + "' has no results in the selected runs" +
                                        (hint.empty() ? "" : "; " + hint) +
                                        "; models: " + (names.empty() ? "(none)" : join(names, ", ")));
    }
    out.baseline = baseline;
  } else {
    const ModelData* best = nullptr;
    for (const auto& m : out.models) {
      auto f = m.info.mamba_fraction();
      if (!f) continue;
      if (!best || *f < *best->info.mamba_fraction()) best = &m;
    }
    if (!best && !out.models.empty()) {
      // No layer counts (e.g. models behind an OpenAI endpoint): the slowest model at the first shape is the
      // most likely full-attention baseline; without perf data, the first by name.
      std::string how = "the first by name";
      if (!out.shapes.empty()) {
        for (const auto& m : out.models) {
          const PerfLevel* l = peak_level(m, out.shapes.front());
          if (l &&
              (!best || l->median_output_tok_per_s < peak_level(*best, out.shapes.front())->median_output_tok_per_s))
            best = &m;
        }
        how = "the slowest at " + out.shapes.front();
      }
      if (!best) best = &out.models.front();
      out.warnings.push_back("no model records its layer counts; the baseline is " + best->info.name + " (" + how +
                             "); pass --baseline to choose");
    }
    if (best) out.baseline = best->info.name;
  }

  // Environment warnings.
  for (const auto& r : out.runs) {
    std::string bt = r.environment.value("build_type", std::string());
    if (!bt.empty() && lower(bt) != "release" && lower(bt) != "relwithdebinfo")
      out.warnings.push_back("run " + r.name + " was measured with a " + bt + " build; timings are not representative");
    std::string env = lower(r.environment.dump());
    if (env.find("cpu-reference") != std::string::npos || env.find("cpu_reference") != std::string::npos ||
        env.find("reference kernels") != std::string::npos)
      out.warnings.push_back("run " + r.name + " used CPU reference kernels; throughput is not representative");
    if (r.status != "finished") out.warnings.push_back("run " + r.name + " is " + r.status + ", not finished");
  }
  for (const auto& m : out.models)
    if (m.scores.size() < out.suites.size())
      out.warnings.push_back("model " + m.info.name + " has scores for " + std::to_string(m.scores.size()) + " of " +
                             std::to_string(out.suites.size()) + " suites");
  // One line per distinct warning (the same repeat warning comes once per model otherwise).
  std::vector<std::string> unique_warnings;
  for (auto& w : out.warnings)
    if (std::find(unique_warnings.begin(), unique_warnings.end(), w) == unique_warnings.end())
      unique_warnings.push_back(std::move(w));
  out.warnings = std::move(unique_warnings);
  return out;
}

}  // namespace hb::reports
