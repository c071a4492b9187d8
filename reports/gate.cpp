#include "reports/gate.h"

#include <algorithm>
#include <cmath>

#include "harness/base/error.h"
#include "harness/base/strings.h"
#include "reports/format.h"
#include "reports/stats/paired.h"

namespace hb::reports {
namespace {

double number(const nlohmann::json& j, const std::string& key, const std::string& source, double lo, double hi) {
  if (!j.is_number())
    throw Error(ErrorCode::usage, "gate policy '" + source + "': \"" + key + "\" must be a number, got " + j.dump());
  double v = j.get<double>();
  if (!(v >= lo && v <= hi))
    throw Error(ErrorCode::usage, "gate policy '" + source + "': \"" + key + "\" = " + j.dump() + " is outside [" +
                                      fixed(lo, 2) + ", " + fixed(hi, 2) + "]");
  return v;
}

void only_keys(const nlohmann::json& j, const std::vector<std::string>& keys, const std::string& where,
               const std::string& source) {
  if (!j.is_object()) throw Error(ErrorCode::usage, "gate policy '" + source + "': " + where + " must be an object");
  for (const auto& [k, v] : j.items()) {
    if (std::find(keys.begin(), keys.end(), k) != keys.end()) continue;
    std::string hint = did_you_mean(k, keys);
    throw Error(ErrorCode::usage, "gate policy '" + source + "': unknown key \"" + k + "\" in " + where +
                                      (hint.empty() ? "" : "; " + hint) + "; keys: " + join(keys, ", "));
  }
}

// Per-item means of the items both answered, in item order.
void pair_items(const ItemScores& a, const ItemScores& b, std::vector<double>& xa, std::vector<double>& xb,
                bool& single_binary) {
  xa.clear();
  xb.clear();
  single_binary = true;
  for (const auto& [id, va] : a) {
    auto it = b.find(id);
    if (it == b.end() || va.empty() || it->second.empty()) continue;
    double sa = 0, sb = 0;
    for (double v : va) sa += v;
    for (double v : it->second) sb += v;
    xa.push_back(sa / static_cast<double>(va.size()));
    xb.push_back(sb / static_cast<double>(it->second.size()));
    single_binary = single_binary && va.size() == 1 && it->second.size() == 1;
  }
  single_binary = single_binary && stats::is_binary(xa) && stats::is_binary(xb);
}

const SuiteScore* find_score(const ModelData& m, const std::string& key) {
  for (const auto& s : m.scores)
    if (s.suite == key) return &s;
  for (const auto& s : m.scores)  // a bare suite name matches "name/variant" when unique
    if (starts_with(s.suite, key + "/")) return &s;
  return nullptr;
}

const ItemScores* find_items(const ModelData& m, const std::string& suite, const std::string& metric) {
  auto s = m.metric_items.find(suite);
  if (s != m.metric_items.end()) {
    auto it = s->second.find(metric);
    if (it != s->second.end()) return &it->second;
  }
  auto p = m.items.find(suite);  // StudyData built without metric_items: the primary metric only
  for (const auto& sc : m.scores)
    if (sc.suite == suite && sc.metric == metric && p != m.items.end()) return &p->second;
  return nullptr;
}

std::string metric_names(const ModelData& m, const std::string& suite) {
  std::string out;
  auto s = m.metric_items.find(suite);
  if (s != m.metric_items.end())
    for (const auto& [k, v] : s->second) out += (out.empty() ? "" : ", ") + k;
  return out.empty() ? "(none)" : out;
}

std::string ratio_text(double r) { return fixed(r, 2) + "x"; }

}  // namespace

GatePolicy parse_gate_policy(const nlohmann::json& j, const std::string& source) {
  GatePolicy p;
  only_keys(j, {"alpha", "default_margin", "auto_margin", "suites", "throughput", "bootstrap"}, "the top level",
            source);
  if (j.contains("alpha")) p.alpha = number(j["alpha"], "alpha", source, 1e-6, 0.5);
  if (j.contains("default_margin")) p.default_margin = number(j["default_margin"], "default_margin", source, 0, 1);
  if (j.contains("auto_margin")) {
    if (!j["auto_margin"].is_boolean())
      throw Error(ErrorCode::usage, "gate policy '" + source + "': \"auto_margin\" must be true or false");
    p.auto_margin = j["auto_margin"].get<bool>();
  }
  if (j.contains("suites")) {
    const auto& s = j["suites"];
    if (!s.is_object()) throw Error(ErrorCode::usage, "gate policy '" + source + "': \"suites\" must be an object");
    for (const auto& [name, v] : s.items()) {
      GatePolicy::SuiteRule rule;
      rule.suite = name;
      rule.margin = p.default_margin;
      if (v.is_number()) {
        rule.margin = number(v, "suites." + name, source, 0, 1);
      } else {
        only_keys(v, {"margin", "metric"}, "suites." + name, source);
        if (v.contains("margin")) rule.margin = number(v["margin"], "suites." + name + ".margin", source, 0, 1);
        if (v.contains("metric")) {
          if (!v["metric"].is_string())
            throw Error(ErrorCode::usage, "gate policy '" + source + "': suites." + name + ".metric must be a string");
          rule.metric = v["metric"].get<std::string>();
        }
      }
      p.suites.push_back(rule);
    }
  }
  if (j.contains("throughput")) {
    const auto& t = j["throughput"];
    only_keys(t, {"shape", "load_kind", "load", "min_ratio"}, "throughput", source);
    if (!t.contains("shape") || !t["shape"].is_string())
      throw Error(ErrorCode::usage, "gate policy '" + source + "': throughput.shape (e.g. \"1024:256\") is required");
    p.shape = t["shape"].get<std::string>();
    if (t.contains("load_kind")) p.load_kind = t["load_kind"].get<std::string>();
    if (t.contains("load")) p.load = number(t["load"], "throughput.load", source, 0, 1e9);
    if (t.contains("min_ratio")) p.min_ratio = number(t["min_ratio"], "throughput.min_ratio", source, 0, 1e6);
  }
  if (j.contains("bootstrap")) {
    const auto& b = j["bootstrap"];
    only_keys(b, {"iterations", "seed"}, "bootstrap", source);
    if (b.contains("iterations"))
      p.iterations = static_cast<int>(number(b["iterations"], "bootstrap.iterations", source, 100, 1e6));
    if (b.contains("seed")) p.seed = static_cast<uint64_t>(number(b["seed"], "bootstrap.seed", source, 0, 1e18));
  }
  return p;
}

GateDecision run_gate(const StudyData& study, const std::vector<std::string>& candidates, const GatePolicy& policy) {
  GateDecision d;
  d.baseline = study.baseline;
  const ModelData* base = study.model(study.baseline);
  if (!base) throw Error(ErrorCode::usage, "baseline '" + study.baseline + "' has no results in the selected runs");
  std::vector<std::string> names;
  for (const auto& m : study.models) names.push_back(m.info.name);
  std::vector<std::string> chosen = candidates;
  if (chosen.empty())
    for (const auto& n : names)
      if (n != study.baseline) chosen.push_back(n);
  for (const auto& c : chosen) {
    if (!study.model(c)) {
      std::string hint = did_you_mean(c, names);
      throw Error(ErrorCode::usage, "candidate '" + c + "' has no results in the selected runs" +
                                        (hint.empty() ? "" : "; " + hint) +
                                        "; models: " + (names.empty() ? "(none)" : join(names, ", ")));
    }
  }
  // Gated suites and margins.
  std::vector<GatePolicy::SuiteRule> gated = policy.suites;
  if (gated.empty())
    for (const auto& s : base->scores)
      gated.push_back(
          {s.suite, policy.auto_margin ? std::max(policy.default_margin, 1.959964 * s.se) : policy.default_margin, ""});

  const PerfLevel* base_level = nullptr;
  if (policy.shape)
    base_level =
        policy.load ? level_at(*base, *policy.shape, policy.load_kind, *policy.load) : peak_level(*base, *policy.shape);

  for (const auto& name : chosen) {
    const ModelData& cand = *study.model(name);
    CandidateVerdict v;
    v.model = name;
    v.ratio_label = cand.info.ratio_label();
    v.passed = true;
    for (const auto& rule : gated) {
      const std::string& key = rule.suite;
      const double margin = rule.margin;
      SuiteCheck sc;
      sc.suite = key;
      sc.margin = margin;
      const SuiteScore* bs = find_score(*base, key);
      const SuiteScore* cs = find_score(cand, key);
      if (!bs || !cs) {
        sc.reason = "FAIL " + key + ": no scores for " + (!bs ? "the baseline " + study.baseline : name);
        v.passed = false;
        v.reasons.push_back(sc.reason);
        v.suites.push_back(sc);
        continue;
      }
      sc.suite = bs->suite;
      sc.metric = rule.metric.empty() ? bs->metric : rule.metric;
      const ItemScores* base_items = find_items(*base, bs->suite, sc.metric);
      const ItemScores* cand_items = find_items(cand, cs->suite, sc.metric);
      if (!base_items || !cand_items) {
        sc.reason = "FAIL " + sc.suite + ": no metric '" + sc.metric + "' in the samples of " +
                    (!base_items ? study.baseline : name) + "; metrics: " + metric_names(*base, bs->suite);
        v.passed = false;
        v.reasons.push_back(sc.reason);
        v.suites.push_back(sc);
        continue;
      }
      std::vector<double> a, b;
      bool single_binary = false;
      pair_items(*base_items, *cand_items, a, b, single_binary);
      sc.n = static_cast<int64_t>(a.size());
      sc.samples_per_item = std::max(bs->samples_per_item, cs->samples_per_item);
      if (a.empty()) {
        sc.reason = "FAIL " + sc.suite + ": no items answered by both " + study.baseline + " and " + name;
        v.passed = false;
        v.reasons.push_back(sc.reason);
        v.suites.push_back(sc);
        continue;
      }
      double sa = 0, sb = 0;
      for (size_t i = 0; i < a.size(); ++i) {
        sa += a[i];
        sb += b[i];
      }
      sc.baseline_score = sa / static_cast<double>(a.size());
      sc.candidate_score = sb / static_cast<double>(b.size());
      auto ni = stats::non_inferiority(a, b, margin, policy.alpha, policy.iterations, policy.seed);
      sc.delta = ni.delta;
      sc.lower = ni.lower;
      sc.p = ni.p;
      sc.passed = ni.passed;
      sc.method = sc.samples_per_item > 1
                      ? "paired bootstrap over problems (" + std::to_string(sc.samples_per_item) + " samples per item)"
                      : "paired bootstrap";
      if (single_binary) sc.mcnemar_p = stats::mcnemar(a, b).p_two_sided;
      sc.reason = std::string(sc.passed ? "PASS " : "FAIL ") + sc.suite + " " + sc.metric + ": delta " +
                  fixed(sc.delta, 4) + " (" + fixed(sc.candidate_score, 4) + " vs " + fixed(sc.baseline_score, 4) +
                  "), one-sided " + fixed((1 - policy.alpha) * 100, 0) + "% lower bound " + fixed(sc.lower, 4) +
                  (sc.passed ? " > " : " <= ") + fixed(-margin, 4) + " (margin), p " + fixed(sc.p, 4) + ", n " +
                  std::to_string(sc.n) + ", " + sc.method +
                  (sc.mcnemar_p ? ", McNemar p " + fixed(*sc.mcnemar_p, 4) : "");
      v.passed = v.passed && sc.passed;
      v.reasons.push_back(sc.reason);
      v.suites.push_back(sc);
    }
    if (policy.shape) {
      const PerfLevel* lvl =
          policy.load ? level_at(cand, *policy.shape, policy.load_kind, *policy.load) : peak_level(cand, *policy.shape);
      std::string where =
          *policy.shape + (policy.load ? " " + policy.load_kind + "=" + fixed(*policy.load, 0) : " (peak)");
      if (!base_level) {
        v.passed = false;
        v.reasons.push_back("FAIL throughput: the baseline " + study.baseline + " has no perf data at " + where);
      } else if (!lvl) {
        v.passed = false;
        v.reasons.push_back("FAIL throughput: no perf data at " + where);
      } else {
        v.tok_per_s = lvl->median_output_tok_per_s;
        v.baseline_tok_per_s = base_level->median_output_tok_per_s;
        v.throughput_ratio = *v.tok_per_s / *v.baseline_tok_per_s;
        bool ok = *v.throughput_ratio >= policy.min_ratio;
        v.passed = v.passed && ok;
        v.reasons.push_back(std::string(ok ? "PASS" : "FAIL") + " throughput at " + where + ": " +
                            fixed(*v.tok_per_s, 1) + " vs " + fixed(*v.baseline_tok_per_s, 1) + " output tok/s = " +
                            ratio_text(*v.throughput_ratio) + (ok ? " >= " : " < ") + ratio_text(policy.min_ratio) +
                            " (median of " + std::to_string(lvl->repeats) + " repeat(s))");
      }
    }
    d.candidates.push_back(std::move(v));
  }
  // The fastest passing candidate.
  const CandidateVerdict* best = nullptr;
  auto key = [&](const CandidateVerdict& c) {
    if (policy.shape) return c.throughput_ratio.value_or(0);
    auto f = study.model(c.model)->info.mamba_fraction();
    return f.value_or(0);
  };
  for (const auto& c : d.candidates)
    if (c.passed && (!best || key(c) > key(*best))) best = &c;
  if (best) d.chosen = best->model;
  d.rule = policy.shape ? "the passing candidate with the highest throughput ratio"
                        : "the passing candidate with the largest Mamba fraction (the policy has no throughput check)";
  return d;
}

std::string render_gate_json(const GateDecision& d) {
  nlohmann::ordered_json j;
  j["chosen"] = d.chosen ? nlohmann::ordered_json(*d.chosen) : nlohmann::ordered_json(nullptr);
  j["baseline"] = d.baseline;
  j["rule"] = d.rule;
  j["candidates"] = nlohmann::ordered_json::array();
  for (const auto& c : d.candidates) {
    nlohmann::ordered_json cj;
    cj["model"] = c.model;
    cj["passed"] = c.passed;
    cj["reasons"] = c.reasons;
    cj["throughput_ratio"] = c.throughput_ratio ? nlohmann::ordered_json(rounded(*c.throughput_ratio, 4)) : nullptr;
    cj["suites"] = nlohmann::ordered_json::array();
    for (const auto& s : c.suites) {
      nlohmann::ordered_json sj;
      sj["suite"] = s.suite;
      sj["metric"] = s.metric;
      sj["n"] = s.n;
      sj["delta"] = rounded(s.delta, 6);
      sj["lower"] = rounded(s.lower, 6);
      sj["margin"] = rounded(s.margin, 6);
      sj["p"] = rounded(s.p, 6);
      sj["passed"] = s.passed;
      sj["method"] = s.method;
      sj["mcnemar_p"] = s.mcnemar_p ? nlohmann::ordered_json(rounded(*s.mcnemar_p, 6)) : nullptr;
      cj["suites"].push_back(sj);
    }
    j["candidates"].push_back(cj);
  }
  return j.dump(2) + "\n";
}

std::string render_gate_text(const GateDecision& d, const GatePolicy& policy) {
  std::string o = "gate: baseline " + d.baseline + ", alpha " + fixed(policy.alpha, 3) + ", " +
                  std::to_string(policy.iterations) + " bootstrap resamples (seed " + std::to_string(policy.seed) +
                  ")\n";
  for (const auto& c : d.candidates) {
    o += "\n" + c.model + (c.ratio_label.empty() ? "" : " (" + c.ratio_label + ")") + ": " +
         (c.passed ? "PASSED" : "FAILED") + "\n";
    for (const auto& r : c.reasons) o += "  " + r + "\n";
  }
  o += "\n";
  if (d.chosen)
    o += "chosen: " + *d.chosen + " (" + d.rule + ")\n";
  else
    o += "chosen: none (no candidate passed every check)\n";
  return o;
}

}  // namespace hb::reports
