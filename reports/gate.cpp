#include "reports/gate.h"

#include <algorithm>
#include <cmath>

#include "harness/base/error.h"
#include "harness/base/strings.h"
#include "reports/format.h"
#include "reports/stats/paired.h"
#include "reports/stats/power.h"

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

// A score difference in the check's units: points for [0, 1] metrics, the metric's own units for ratings.
std::string units(double v, double scale) { return fixed(v * scale, scale == 100 ? 1 : 3); }

// Why a paired comparison cannot decide anything, or "" when it can.
std::string degenerate_reason(const std::vector<double>& a, const std::vector<double>& b) {
  auto all_equal = [](const std::vector<double>& v, double x) {
    return std::all_of(v.begin(), v.end(), [&](double y) { return y == x; });
  };
  if (!a.empty() && all_equal(a, a.front()) && all_equal(b, a.front()))
    return "every item scores " + fixed(a.front(), 2) + " for both models (the data cannot tell them apart)";
  if (!a.empty() && all_equal(a, 0))
    return "the baseline scores 0 on every item (no drop can be observed)";
  bool varies = false;
  for (size_t i = 1; i < a.size() && !varies; ++i) varies = (b[i] - a[i]) != (b[0] - a[0]);
  if (!a.empty() && !varies) return "the per-item differences have no variance (every item differs by the same amount)";
  return "";
}

// Runs one suite's non-inferiority check on paired per-item means and fills the check's verdict and text.
void decide_suite(SuiteCheck& sc, const std::vector<double>& a, const std::vector<double>& b, bool single_binary,
                  const GatePolicy& policy) {
  double sa = 0, sb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    sa += a[i];
    sb += b[i];
  }
  sc.baseline_score = sa / static_cast<double>(a.size());
  sc.candidate_score = sb / static_cast<double>(b.size());
  auto ni = stats::non_inferiority(a, b, sc.margin, policy.alpha, policy.iterations, policy.seed);
  sc.delta = ni.delta;
  sc.lower = ni.lower;
  sc.p = ni.p;
  sc.passed = ni.passed;
  sc.method = sc.samples_per_item > 1
                  ? "paired bootstrap over problems (" + std::to_string(sc.samples_per_item) + " samples per item)"
                  : "paired bootstrap";
  if (single_binary) sc.mcnemar_p = stats::mcnemar(a, b).p_two_sided;
  std::vector<double> d(a.size());
  for (size_t i = 0; i < a.size(); ++i) d[i] = b[i] - a[i];
  const std::string u = sc.scale == 100 ? " points" : "";
  if (sc.n < sc.min_items) {
    auto pw = stats::non_inferiority_power(d, sc.margin, policy.alpha);
    sc.guard = "n=" + std::to_string(sc.n) + " paired items < min_items " + std::to_string(sc.min_items) + "; ";
    if (pw.power >= 0.8 && !pw.sd_assumed)  // the spread is small enough: the minimum is the policy's choice
      sc.guard += "the observed spread would give power " + fixed(pw.power, 2) + " at this margin, so a per-suite "
                  "\"min_items\": {\"" + sc.suite + "\": " + std::to_string(sc.n) + "} in the policy lets it decide";
    else
      sc.guard += stats::describe_power(pw, sc.scale);
  } else {
    std::string why = degenerate_reason(a, b);
    if (!why.empty()) sc.guard = why;
  }
  sc.undecided = !sc.guard.empty();
  if (sc.undecided) sc.passed = false;
  // The one number that decides, next to its threshold; the rest is context.
  sc.decided_by = "one-sided " + fixed((1 - policy.alpha) * 100, 0) + "% lower bound " + units(sc.lower, sc.scale) +
                  (ni.passed ? " > " : " <= ") + units(-sc.margin, sc.scale) + " margin" + u;
  // An undecided check prints no p-value: with degenerate data the bootstrap's p is 0 or 1 and means nothing.
  std::string context = "delta " + units(sc.delta, sc.scale) + " (" + units(sc.candidate_score, sc.scale) + " vs " +
                        units(sc.baseline_score, sc.scale) + "), n " + std::to_string(sc.n) + ", " + sc.method +
                        (sc.undecided ? std::string()
                                      : "; secondary: p " + fixed(sc.p, 4) +
                                            (sc.mcnemar_p ? ", McNemar p " + fixed(*sc.mcnemar_p, 4) : ""));
  std::string verdict = sc.undecided ? "NO DECISION " : sc.passed ? "PASS " : "FAIL ";
  sc.reason = verdict + sc.suite + " " + sc.metric + ": " +
              (sc.undecided ? "too little data: " + sc.guard + " [not used: " + sc.decided_by + "; " + context + "]"
                            : sc.decided_by + " (" + context + ")");
}

}  // namespace

int64_t GatePolicy::min_items_for(const std::string& suite_label, const std::optional<int64_t>& rule) const {
  if (rule) return *rule;
  auto it = min_items_by_suite.find(suite_label);
  if (it != min_items_by_suite.end()) return it->second;
  auto slash = suite_label.find('/');  // a bare suite name matches "name/variant"
  if (slash != std::string::npos) {
    it = min_items_by_suite.find(suite_label.substr(0, slash));
    if (it != min_items_by_suite.end()) return it->second;
  }
  return min_items;
}

std::string describe_policy(const GatePolicy& p) {
  std::string margins;
  if (p.suites.empty()) {
    margins = "every suite of the baseline within " + fixed(p.default_margin * 100, 1) + " points" +
              (p.auto_margin ? " (or the baseline's own 95% CI half-width when larger)" : "");
  } else {
    for (const auto& r : p.suites)
      margins += (margins.empty() ? "" : ", ") + r.suite + (r.metric.empty() ? "" : " " + r.metric) + " within " +
                 fixed(r.margin * 100, 1) + " points";
  }
  std::string min_items = "at least " + std::to_string(p.min_items) + " paired items per suite";
  for (const auto& [s, n] : p.min_items_by_suite) min_items += ", " + s + " " + std::to_string(n);
  for (const auto& r : p.suites)
    if (r.min_items) min_items += ", " + r.suite + " " + std::to_string(*r.min_items);
  std::string out = "non-inferior to the baseline on " + margins + " (paired bootstrap, one-sided lower bound at " +
                    fixed((1 - p.alpha) * 100, 0) + "%, alpha " + fixed(p.alpha, 2) + "; " + min_items + ")";
  if (p.shape)
    out += "; output throughput at " + *p.shape +
           (p.load ? " " + p.load_kind + "=" + fixed(*p.load, 0) : std::string(" (peak over load levels)")) +
           " at least " + ratio_text(p.min_ratio) + " the baseline's; pick the passing candidate with the highest "
           "throughput ratio";
  else
    out += "; pick the passing candidate with the largest Mamba fraction (no throughput check)";
  return out;
}

int gate_exit_code(const GateDecision& d) { return d.no_decision ? kExitNoDecision : d.chosen ? 0 : 1; }


GatePolicy parse_gate_policy(const nlohmann::json& j, const std::string& source) {
  GatePolicy p;
  only_keys(j, {"alpha", "default_margin", "auto_margin", "suites", "throughput", "bootstrap", "min_items"},
            "the top level", source);
  if (j.contains("min_items")) {
    const auto& m = j["min_items"];
    if (m.is_object()) {
      for (const auto& [name, v] : m.items()) {
        auto n = static_cast<int64_t>(number(v, "min_items." + name, source, 1, 1e9));
        if (name == "default")
          p.min_items = n;
        else
          p.min_items_by_suite[name] = n;
      }
    } else {
      p.min_items = static_cast<int64_t>(number(m, "min_items", source, 1, 1e9));
    }
  }
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
        only_keys(v, {"margin", "metric", "min_items"}, "suites." + name, source);
        if (v.contains("margin")) rule.margin = number(v["margin"], "suites." + name + ".margin", source, 0, 1);
        if (v.contains("min_items"))
          rule.min_items =
              static_cast<int64_t>(number(v["min_items"], "suites." + name + ".min_items", source, 1, 1e9));
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
    if (t.contains("load_kind")) {
      const auto& k = t["load_kind"];
      if (!k.is_string() || (k.get<std::string>() != "concurrency" && k.get<std::string>() != "rate"))
        throw Error(ErrorCode::usage, "gate policy '" + source + "': throughput.load_kind = " + k.dump() +
                                          " must be \"concurrency\" or \"rate\"");
      p.load_kind = k.get<std::string>();
    }
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
  d.policy_text = describe_policy(policy);
  d.origin = policy.origin;
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
      gated.push_back({s.suite,
                       policy.auto_margin ? std::max(policy.default_margin, 1.959964 * s.normalized_se() * s.full_scale)
                                          : policy.default_margin,
                       "", std::nullopt});

  const PerfLevel* base_level = nullptr;
  if (policy.shape)
    base_level =
        policy.load ? level_at(*base, *policy.shape, policy.load_kind, *policy.load) : peak_level(*base, *policy.shape);

  for (const auto& name : chosen) {
    const ModelData& cand = *study.model(name);
    CandidateVerdict v;
    v.model = name;
    v.ratio_label = cand.info.ratio_label();
    bool failed = false, undecided = false;
    auto fail = [&](SuiteCheck sc) {
      failed = true;
      v.reasons.push_back(sc.reason);
      v.suites.push_back(std::move(sc));
    };
    for (const auto& rule : gated) {
      const std::string& key = rule.suite;
      SuiteCheck sc;
      sc.suite = key;
      sc.margin = rule.margin;
      const SuiteScore* bs = find_score(*base, key);
      const SuiteScore* cs = find_score(cand, key);
      if (!bs || !cs) {
        sc.reason = "FAIL " + key + ": no scores for " + (!bs ? "the baseline " + study.baseline : name);
        fail(sc);
        continue;
      }
      sc.suite = bs->suite;
      sc.metric = rule.metric.empty() ? bs->metric : rule.metric;
      sc.scale = std::max(bs->full_scale, cs->full_scale) > 1 ? 1 : 100;
      sc.min_items = policy.min_items_for(bs->suite, rule.min_items);
      const ItemScores* base_items = find_items(*base, bs->suite, sc.metric);
      const ItemScores* cand_items = find_items(cand, cs->suite, sc.metric);
      if (!base_items || !cand_items) {
        sc.reason = "FAIL " + sc.suite + ": no metric '" + sc.metric + "' in the samples of " +
                    (!base_items ? study.baseline : name) + "; metrics: " + metric_names(*base, bs->suite);
        fail(sc);
        continue;
      }
      std::vector<double> a, b;
      bool single_binary = false;
      pair_items(*base_items, *cand_items, a, b, single_binary);
      sc.n = static_cast<int64_t>(a.size());
      sc.samples_per_item = std::max(bs->samples_per_item, cs->samples_per_item);
      if (a.empty()) {
        sc.reason = "FAIL " + sc.suite + ": no items answered by both " + study.baseline + " and " + name;
        fail(sc);
        continue;
      }
      decide_suite(sc, a, b, single_binary, policy);
      failed = failed || (!sc.undecided && !sc.passed);
      undecided = undecided || sc.undecided;
      v.reasons.push_back(sc.reason);
      v.suites.push_back(sc);
    }
    if (policy.shape) {
      const PerfLevel* lvl =
          policy.load ? level_at(cand, *policy.shape, policy.load_kind, *policy.load) : peak_level(cand, *policy.shape);
      std::string where =
          *policy.shape + (policy.load ? " " + policy.load_kind + "=" + fixed(*policy.load, 0) : " (peak)");
      CandidateVerdict::ThroughputCheck t;
      t.where = "throughput at " + where;
      if (!base_level) {
        t.decided_by = "the baseline " + study.baseline + " has no perf data at " + where;
      } else if (!lvl) {
        t.decided_by = "no perf data at " + where;
      } else {
        v.tok_per_s = lvl->median_output_tok_per_s;
        v.baseline_tok_per_s = base_level->median_output_tok_per_s;
        v.throughput_ratio = *v.tok_per_s / *v.baseline_tok_per_s;
        t.passed = *v.throughput_ratio >= policy.min_ratio;
        t.decided_by = "ratio " + ratio_text(*v.throughput_ratio) + (t.passed ? " >= " : " < ") +
                       ratio_text(policy.min_ratio) + " min ratio";
        t.context = fixed(*v.tok_per_s, 1) + " vs " + fixed(*v.baseline_tok_per_s, 1) + " output tok/s, median of " +
                    std::to_string(lvl->repeats) + " repeat(s)";
      }
      failed = failed || !t.passed;
      v.reasons.push_back(std::string(t.passed ? "PASS " : "FAIL ") + t.where + ": " + t.decided_by +
                          (t.context.empty() ? "" : " (" + t.context + ")"));
      v.throughput = t;
    }
    v.undecided = undecided && !failed;
    v.passed = !failed && !undecided;
    d.candidates.push_back(std::move(v));
  }
  // Too little data for any candidate that did not fail outright: no decision (a faster candidate might be
  // the one the data cannot judge).
  for (const auto& c : d.candidates) {
    if (!c.undecided) continue;
    d.no_decision = true;
    for (const auto& s : c.suites) {  // one reason per suite (the first undecided candidate's numbers)
      if (!s.undecided) continue;
      bool seen = false;
      for (const auto& r : d.no_decision_reasons) seen = seen || r.rfind(s.suite + ": ", 0) == 0;
      if (!seen) d.no_decision_reasons.push_back(s.suite + ": " + s.guard);
    }
  }
  d.rule = policy.shape ? "the passing candidate with the highest throughput ratio"
                        : "the passing candidate with the largest Mamba fraction (the policy has no throughput check)";
  if (d.no_decision) return d;
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
  return d;
}

nlohmann::ordered_json gate_json(const GateDecision& d) {
  nlohmann::ordered_json j;
  j["decision"] = d.status();
  j["chosen"] = d.chosen ? nlohmann::ordered_json(*d.chosen) : nlohmann::ordered_json(nullptr);
  j["baseline"] = d.baseline;
  j["rule"] = d.rule;
  j["policy"] = {{"origin", d.origin}, {"text", d.policy_text}};
  j["no_decision_reasons"] = d.no_decision_reasons;
  j["candidates"] = nlohmann::ordered_json::array();
  for (const auto& c : d.candidates) {
    nlohmann::ordered_json cj;
    cj["model"] = c.model;
    cj["passed"] = c.passed;
    cj["undecided"] = c.undecided;
    cj["reasons"] = c.reasons;
    cj["throughput_ratio"] = c.throughput_ratio ? nlohmann::ordered_json(rounded(*c.throughput_ratio, 4)) : nullptr;
    cj["suites"] = nlohmann::ordered_json::array();
    for (const auto& s : c.suites) {
      nlohmann::ordered_json sj;
      sj["suite"] = s.suite;
      sj["metric"] = s.metric;
      sj["n"] = s.n;
      sj["min_items"] = s.min_items;
      sj["delta"] = rounded(s.delta, 6);
      sj["lower"] = rounded(s.lower, 6);
      sj["margin"] = rounded(s.margin, 6);
      sj["p"] = s.undecided ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(rounded(s.p, 6));
      sj["passed"] = s.passed;
      sj["undecided"] = s.undecided;
      sj["guard"] = s.guard;
      sj["decided_by"] = s.decided_by;
      sj["method"] = s.method;
      sj["mcnemar_p"] = s.mcnemar_p && !s.undecided ? nlohmann::ordered_json(rounded(*s.mcnemar_p, 6)) : nullptr;
      cj["suites"].push_back(sj);
    }
    j["candidates"].push_back(cj);
  }
  return j;
}

std::string render_gate_json(const GateDecision& d) { return gate_json(d).dump(2) + "\n"; }

std::string render_gate_text(const GateDecision& d, const GatePolicy& policy) {
  std::string o = "gate (" + d.origin + "): baseline " + d.baseline + "; rule: " + d.policy_text + "; " +
                  std::to_string(policy.iterations) + " bootstrap resamples (seed " + std::to_string(policy.seed) +
                  ")\n";
  for (const auto& c : d.candidates) {
    o += "\n" + c.model + (c.ratio_label.empty() ? "" : " (" + c.ratio_label + ")") + ": " +
         (c.undecided ? "NO DECISION" : c.passed ? "PASSED" : "FAILED") + "\n";
    for (const auto& r : c.reasons) o += "  " + r + "\n";
  }
  o += "\n";
  if (d.no_decision) {
    o += "decision: no decision: too little data\n";
    for (const auto& r : d.no_decision_reasons) o += "  " + r + "\n";
  } else if (d.chosen) {
    o += "chosen: " + *d.chosen + " (" + d.rule + ")\n";
  } else {
    o += "chosen: none (no candidate passed every check)\n";
  }
  return o;
}

}  // namespace hb::reports
