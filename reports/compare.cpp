#include "reports/compare.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "reports/format.h"
#include "reports/stats/holm.h"
#include "reports/stats/mann_whitney.h"
#include "reports/stats/paired.h"
#include "reports/stats/welch.h"

namespace hb::reports {
namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double relative_range(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  double m = median(v);
  if (m <= 0) return 0;
  auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  return (*hi - *lo) / m;
}

void perf_check(CompareResult& r, const CompareOptions& o, const std::string& model, const PerfLevel& b,
                const PerfLevel& h, const std::string& metric, const std::vector<double>& bv,
                const std::vector<double>& hv, bool higher_is_better) {
  if (bv.empty() || hv.empty()) return;
  PerfDelta d;
  d.model = model;
  d.shape = b.shape;
  d.load_kind = b.load_kind;
  d.load = b.load;
  d.metric = metric;
  d.higher_is_better = higher_is_better;
  d.base_repeats = static_cast<int>(bv.size());
  d.head_repeats = static_cast<int>(hv.size());
  d.base_median = median(bv);
  d.head_median = median(hv);
  d.ratio = d.base_median > 0 ? d.head_median / d.base_median : 1;
  d.band = std::max(higher_is_better ? o.min_band : o.min_band_latency, relative_range(bv) + relative_range(hv));
  bool outside = higher_is_better ? d.ratio < 1 - d.band : d.ratio > 1 + d.band;
  if (o.perf_test == "welch-log") {
    d.test = "Welch t on log";
    if (auto w = stats::welch_log(hv, bv)) d.p = higher_is_better ? w->p_less : w->p_greater;
  } else if (bv.size() >= 3 && hv.size() >= 3) {
    d.test = "Mann-Whitney";
    auto mw = stats::mann_whitney(hv, bv);
    d.p = higher_is_better ? mw.p_less : mw.p_greater;
  }
  d.regression = outside && (!d.p || *d.p <= o.alpha);
  std::string band = "ratio " + fixed(d.ratio, 3) + (outside ? " outside" : " inside") + " the noise band " +
                     (higher_is_better ? ">= " + fixed(1 - d.band, 3) : "<= " + fixed(1 + d.band, 3));
  d.decided_by = !outside ? band
                 : !d.p   ? band + " (fewer than 3 repeats: the band alone decides)"
                          : band + " and Mann-Whitney p " + fixed(*d.p, 4) + (*d.p <= o.alpha ? " <= " : " > ") +
                              "alpha " + fixed(o.alpha, 3);
  std::string where = model + " " + d.shape + " " + d.load_kind + "=" + fixed(d.load, 0) + " " + metric;
  if (d.regression)
    r.reasons.push_back("perf " + where + ": median " + fixed(d.head_median, 2) + " vs " + fixed(d.base_median, 2) +
                        " (ratio " + fixed(d.ratio, 3) + ", noise band +-" + percent(d.band, 1) + ")" +
                        (d.p ? ", " + d.test + " p " + fixed(*d.p, 4) : ", too few repeats for a test: band only"));
  else if (outside && d.p)
    r.notes.push_back("perf " + where + ": ratio " + fixed(d.ratio, 3) + " outside the band but " + d.test + " p " +
                      fixed(*d.p, 4) + " > alpha; not a regression");
  r.perf.push_back(d);
}

}  // namespace

CompareResult compare_runs(const StudyData& base, const StudyData& head, const CompareOptions& o) {
  CompareResult r;
  r.base_run = base.runs.empty() ? "" : base.runs.front().name;
  r.head_run = head.runs.empty() ? "" : head.runs.front().name;
  for (const auto& bm : base.models) {
    const ModelData* hm = head.model(bm.info.name);
    if (!hm) {
      r.notes.push_back("model " + bm.info.name + " is only in " + r.base_run);
      continue;
    }
    for (const auto& bs : bm.scores) {
      const SuiteScore* hs = nullptr;
      for (const auto& s : hm->scores)
        if (s.suite == bs.suite) hs = &s;
      if (!hs) {
        r.notes.push_back(bm.info.name + " " + bs.suite + " is only in " + r.base_run);
        continue;
      }
      if (hs->metric != bs.metric) {
        r.notes.push_back(bm.info.name + " " + bs.suite + ": primary metric changed (" + bs.metric + " -> " +
                          hs->metric + "); not compared");
        continue;
      }
      const auto& bi = bm.items.at(bs.suite);
      const auto& hi = hm->items.at(hs->suite);
      std::vector<double> a, b;
      bool single = true;
      for (const auto& [id, va] : bi) {
        auto it = hi.find(id);
        if (it == hi.end()) continue;
        double sa = 0, sb = 0;
        for (double v : va) sa += v;
        for (double v : it->second) sb += v;
        a.push_back(sa / static_cast<double>(va.size()));
        b.push_back(sb / static_cast<double>(it->second.size()));
        single = single && va.size() == 1 && it->second.size() == 1;
      }
      if (a.empty()) continue;
      QualityDelta q;
      q.model = bm.info.name;
      q.suite = bs.suite;
      q.metric = bs.metric;
      q.n = static_cast<int64_t>(a.size());
      auto bs_res = stats::paired_bootstrap(a, b, o.iterations, o.seed);
      for (size_t i = 0; i < a.size(); ++i) {
        q.base += a[i];
        q.head += b[i];
      }
      q.base /= static_cast<double>(a.size());
      q.head /= static_cast<double>(b.size());
      q.delta = bs_res.delta;
      q.ci_low = bs_res.ci.low;
      q.ci_high = bs_res.ci.high;
      q.ci_method = "paired bootstrap percentile";
      if (single && stats::is_binary(a) && stats::is_binary(b)) {
        // Newcombe's paired score interval keeps its coverage on small n, where the bootstrap's is too narrow.
        auto ci = stats::newcombe_paired(a, b);
        q.ci_low = ci.low;
        q.ci_high = ci.high;
        q.ci_method = "Newcombe paired score";
        auto m = stats::mcnemar(a, b);
        q.p = m.p_two_sided;
        q.method = m.exact ? "McNemar exact" : "McNemar chi-square";
      } else {
        q.p = bs_res.p_two_sided;
        q.method = "paired bootstrap over problems";
      }
      r.quality.push_back(q);
    }
    for (const auto& bl : bm.perf) {
      const PerfLevel* hl = level_at(*hm, bl.shape, bl.load_kind, bl.load);
      if (!hl) {
        r.notes.push_back("perf " + bm.info.name + " " + bl.shape + " " + bl.load_kind + "=" + fixed(bl.load, 0) +
                          " is only in " + r.base_run);
        continue;
      }
      perf_check(r, o, bm.info.name, bl, *hl, "output_tok_per_s", bl.output_tok_per_s, hl->output_tok_per_s, true);
      for (const char* key : {"ttft_ms.p50", "tpot_ms.p50"}) {
        auto bi = bl.latency_repeats.find(key);
        auto hi = hl->latency_repeats.find(key);
        if (bi != bl.latency_repeats.end() && hi != hl->latency_repeats.end())
          perf_check(r, o, bm.info.name, bl, *hl, key, bi->second, hi->second, false);
      }
      const int needed = o.perf_test == "welch-log" ? 2 : 3;
      if (bl.repeats < needed || hl->repeats < needed)
        r.notes.push_back("perf " + bm.info.name + " " + bl.shape + " " + bl.load_kind + "=" + fixed(bl.load, 0) +
                          " has fewer than " + std::to_string(needed) + " repeats; judged by the noise band only");
    }
  }
  for (const auto& hm : head.models)
    if (!base.model(hm.info.name)) r.notes.push_back("model " + hm.info.name + " is only in " + r.head_run);
  // Holm over the quality family.
  std::vector<double> ps;
  for (const auto& q : r.quality) ps.push_back(q.p);
  auto adj = stats::holm(ps);
  for (size_t i = 0; i < r.quality.size(); ++i) {
    auto& q = r.quality[i];
    q.p_holm = adj[i];
    bool significant = q.p_holm <= o.alpha;
    q.regression = significant && q.delta < -o.min_delta - 1e-9;
    q.improvement = significant && q.delta > o.min_delta + 1e-9;
    const std::string holm = "Holm p " + fixed(q.p_holm, 4) + (significant ? " <= " : " > ") + "alpha " +
                             fixed(o.alpha, 3);
    const std::string drop = "delta " + fixed(q.delta * 100, 1) + " points";
    const std::string tol = fixed(o.min_delta * 100, 1) + " points tolerance";
    if (q.regression)
      q.decided_by = holm + " and " + drop + " beyond -" + tol;
    else if (q.improvement)
      q.decided_by = holm + " and " + drop + " beyond +" + tol;
    else if (!significant)
      q.decided_by = holm + (q.ci_high < 0 ? " (the 95% CI lies below 0, but the test does not reach significance "
                                             "after Holm at this n: a possible drop, not a confirmed one)"
                                           : "");
    else
      q.decided_by = holm + " but " + drop + " within " + tol;
    if (q.regression)
      r.reasons.push_back("quality " + q.model + " " + q.suite + " " + q.metric + ": " + fixed(q.head, 4) + " vs " +
                          fixed(q.base, 4) + " (delta " + fixed(q.delta, 4) + ", 95% CI [" + fixed(q.ci_low, 4) + ", " +
                          fixed(q.ci_high, 4) + "], Holm p " + fixed(q.p_holm, 4) + ", n " + std::to_string(q.n) +
                          ", " + q.method + ")");
  }
  std::stable_sort(r.reasons.begin(), r.reasons.end(), [](const std::string& a, const std::string& b) {
    return a.rfind("quality", 0) == 0 && b.rfind("quality", 0) != 0;
  });
  for (const auto& q : r.quality) r.regression = r.regression || q.regression;
  for (const auto& p : r.perf) r.regression = r.regression || p.regression;
  return r;
}

std::string render_compare_json(const CompareResult& r) {
  nlohmann::ordered_json j;
  j["regression"] = r.regression;
  j["base"] = r.base_run;
  j["head"] = r.head_run;
  j["reasons"] = r.reasons;
  j["quality"] = nlohmann::ordered_json::array();
  for (const auto& q : r.quality) {
    nlohmann::ordered_json x;
    x["model"] = q.model;
    x["suite"] = q.suite;
    x["metric"] = q.metric;
    x["n"] = q.n;
    x["base"] = rounded(q.base, 6);
    x["head"] = rounded(q.head, 6);
    x["delta"] = rounded(q.delta, 6);
    x["ci95"] = {rounded(q.ci_low, 6), rounded(q.ci_high, 6)};
    x["ci_method"] = q.ci_method;
    x["p"] = rounded(q.p, 6);
    x["p_holm"] = rounded(q.p_holm, 6);
    x["method"] = q.method;
    x["regression"] = q.regression;
    x["decided_by"] = q.decided_by;
    j["quality"].push_back(x);
  }
  j["perf"] = nlohmann::ordered_json::array();
  for (const auto& p : r.perf) {
    nlohmann::ordered_json x;
    x["model"] = p.model;
    x["shape"] = p.shape;
    x["load_kind"] = p.load_kind;
    x["load"] = rounded(p.load, 6);
    x["metric"] = p.metric;
    x["base_median"] = rounded(p.base_median, 6);
    x["head_median"] = rounded(p.head_median, 6);
    x["ratio"] = rounded(p.ratio, 6);
    x["band"] = rounded(p.band, 6);
    x["p"] = p.p ? nlohmann::ordered_json(rounded(*p.p, 6)) : nullptr;
    x["test"] = p.test;
    x["repeats"] = {p.base_repeats, p.head_repeats};
    x["regression"] = p.regression;
    x["decided_by"] = p.decided_by;
    j["perf"].push_back(x);
  }
  j["notes"] = r.notes;
  return j.dump(2) + "\n";
}

std::string render_compare_text(const CompareResult& r, const CompareOptions& o) {
  std::string s = "compare: base " + r.base_run + ", head " + r.head_run + " (alpha " + fixed(o.alpha, 3) +
                  ", quality tolerance " + fixed(o.min_delta, 3) + ", min noise band " + percent(o.min_band, 1) +
                  " throughput, " + percent(o.min_band_latency, 1) + " latency)\n\n";
  s += "quality (Holm-corrected over " + std::to_string(r.quality.size()) + " tests)\n";
  s += "  model | suite | metric | n | base | head | delta | 95% CI | p | Holm p | verdict\n";
  for (const auto& q : r.quality)
    s += "  " + q.model + " | " + q.suite + " | " + q.metric + " | " + std::to_string(q.n) + " | " + fixed(q.base, 4) +
         " | " + fixed(q.head, 4) + " | " + fixed(q.delta, 4) + " | [" + fixed(q.ci_low, 4) + ", " +
         fixed(q.ci_high, 4) + "] | " + fixed(q.p, 4) + " | " + fixed(q.p_holm, 4) + " | " +
         (q.regression    ? "REGRESSION"
          : q.improvement ? "improved"
                          : "ok") +
         ": " + q.decided_by + " (" + q.method + ")\n";
  s += "\nperf (median over repeats)\n";
  s += "  model | shape | load | metric | base | head | ratio | band | p | verdict\n";
  for (const auto& p : r.perf)
    s += "  " + p.model + " | " + p.shape + " | " + p.load_kind + "=" + fixed(p.load, 0) + " | " + p.metric + " | " +
         fixed(p.base_median, 2) + " | " + fixed(p.head_median, 2) + " | " + fixed(p.ratio, 3) + " | +-" +
         percent(p.band, 1) + " | " + (p.p ? fixed(*p.p, 4) : std::string("n/a")) + " | " +
         (p.regression ? "REGRESSION" : "ok") + ": " + p.decided_by + "\n";
  for (const auto& n : r.notes) s += "note: " + n + "\n";
  s += "\nverdict: " + std::string(r.regression ? "REGRESSION" : "no regression") + "\n";
  for (const auto& x : r.reasons) s += "  " + x + "\n";
  return s;
}

}  // namespace hb::reports
