#include "reports/html_page.h"
#include "reports/truncation.h"

#include <algorithm>

#include "reports/format.h"
#include "reports/importance_chart.h"
#include "reports/stats/intervals.h"
#include "reports/svg_chart.h"

namespace hb::reports {
namespace {

std::string esc(const std::string& s) { return xml_escape(s); }

std::string env_summary(const nlohmann::json& env) {
  if (!env.is_object() || env.empty()) return "not recorded";
  std::string out;
  for (const auto& [k, v] : env.items()) {
    std::string val = v.is_string() ? v.get<std::string>() : v.dump();
    if (val.size() > 80) val = val.substr(0, 77) + "...";
    out += (out.empty() ? "" : "; ") + k + ": " + val;
  }
  return out;
}

const char* kStyle = R"CSS(
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:24px;color:#222;max-width:1500px}
h1{font-size:22px;margin:0 0 6px 0} h2{font-size:17px;margin:26px 0 8px 0;border-bottom:1px solid #ddd}
h3{font-size:14px;margin:14px 0 6px 0}
.verdict{font-size:16px;padding:10px 14px;background:#eef6ee;border-left:5px solid #2ca02c;margin:12px 0}
.verdict.none{background:#fbeeee;border-left-color:#d62728}
.verdict.undecided{background:#f3f3f3;border-left-color:#7f7f7f} .verdict ul{margin:6px 0 6px 0;font-size:14px}
.rule{font-size:13px;color:#333;margin-top:6px} td.decider{font-weight:bold} .ci{color:#555}
tr.fail td.decider{color:#b0191e} tr.undecided td.decider{color:#555}
.warn{background:#fff6e0;border-left:5px solid #ff7f0e;padding:6px 12px;margin:4px 0;font-size:13px}
table{border-collapse:collapse;font-size:13px;margin:6px 0}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:left} td.num{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f4f4f4} .muted{color:#777;font-size:12px} svg{max-width:100%;height:auto}
)CSS";

std::string verdict_word(const SuiteCheck& s) { return s.undecided ? "no decision" : s.passed ? "PASS" : "FAIL"; }

// One row per check: the number that decided it next to its threshold; everything else secondary.
std::string gate_rows(const CandidateVerdict& c) {
  std::string o;
  size_t rows = c.suites.size() + (c.throughput ? 1 : 0);
  bool first = true;
  auto lead = [&]() {
    std::string l;
    if (first)
      l = "<td rowspan=\"" + std::to_string(std::max<size_t>(1, rows)) + "\">" + xml_escape(c.model) + "<br><b>" +
          (c.undecided ? "no decision" : c.passed ? "pass" : "fail") + "</b></td>";
    first = false;
    return l;
  };
  for (const auto& s : c.suites) {
    std::string cls = s.undecided ? "undecided" : s.passed ? "pass" : "fail";
    o += "<tr class=\"" + cls + "\">" + lead() + "<td>" + xml_escape(s.suite + " " + s.metric) + "</td><td>" +
         verdict_word(s) + "</td>";
    if (s.decided_by.empty()) {  // no test ran (missing scores or metric)
      o += "<td colspan=\"2\">" + xml_escape(s.reason) + "</td></tr>\n";
      continue;
    }
    std::string main = s.undecided ? "too little data: " + s.guard : s.decided_by;
    std::string second =
        s.undecided ? "not used: " + s.decided_by + "; delta " + fixed(s.delta * s.scale, s.scale == 100 ? 1 : 3) +
                          ", n " + std::to_string(s.n) + ", " + s.method
                    : "delta " + fixed(s.delta * s.scale, s.scale == 100 ? 1 : 3) + ", n " + std::to_string(s.n) +
                          ", p " + fixed(s.p, 4) + (s.mcnemar_p ? ", McNemar p " + fixed(*s.mcnemar_p, 4) : "") +
                          ", " + s.method;
    o += "<td class=\"decider\">" + xml_escape(main) + "</td><td class=\"muted\">" + xml_escape(second) +
         "</td></tr>\n";
  }
  if (c.throughput) {
    const auto& t = *c.throughput;
    o += std::string("<tr class=\"") + (t.passed ? "pass" : "fail") + "\">" + lead() + "<td>" + xml_escape(t.where) +
         "</td><td>" + (t.passed ? "PASS" : "FAIL") + "</td><td class=\"decider\">" + xml_escape(t.decided_by) +
         "</td><td class=\"muted\">" + xml_escape(t.context) + "</td></tr>\n";
  }
  return o;
}

}  // namespace

std::string render_decision_html(const GateDecision& d) {
  std::string o;
  std::string rule = "<div class=\"rule\"><b>Rule</b> (" + xml_escape(d.origin) + "): " + xml_escape(d.policy_text) +
                     ".</div>";
  if (d.no_decision) {
    o += "<div class=\"verdict undecided\" id=\"recommendation\"><b>No decision: too little data.</b> The gate "
         "against " +
         xml_escape(d.baseline) + " cannot decide on these results:<ul>";
    for (const auto& r : d.no_decision_reasons) o += "<li>" + xml_escape(r) + "</li>";
    o += "</ul>" + rule + "</div>\n";
  } else if (d.chosen) {
    const CandidateVerdict* c = nullptr;
    for (const auto& v : d.candidates)
      if (v.model == *d.chosen) c = &v;
    std::string speed =
        c && c->throughput_ratio ? " &mdash; " + fixed(*c->throughput_ratio, 2) + "x the output throughput of " +
                                       xml_escape(d.baseline)
                                 : "";
    o += "<div class=\"verdict\" id=\"recommendation\"><b>Recommended: " + xml_escape(*d.chosen) +
         (c && !c->ratio_label.empty() ? " (" + xml_escape(c->ratio_label) + ")" : "") + "</b>" + speed +
         "; it passes every check of the rule below and is " + xml_escape(d.rule) + "." + rule + "</div>\n";
  } else {
    o += "<div class=\"verdict none\" id=\"recommendation\"><b>No candidate passes</b> the gate against " +
         xml_escape(d.baseline) + " (see the failed checks in the gate table)." + rule + "</div>\n";
  }
  return o;
}


std::string render_throughput_chart(const StudyData& study, const std::string& shape, double left, double top) {
  Chart c;
  c.title = "Throughput curves, shape " + shape;
  c.note = "one point per load level (median of repeats); up and right is better";
  c.x_label = "total output tokens/s";
  c.y_label = "output tokens/s per user";
  c.width = 660;
  c.height = 400;
  size_t color = 0;
  for (const auto& m : study.models) {
    ChartSeries s;
    s.name = m.info.name;
    s.color = palette(color++);
    s.line = true;
    for (const auto& l : m.perf)
      if (l.shape == shape && l.per_user_tok_per_s)
        s.points.push_back({l.median_output_tok_per_s, *l.per_user_tok_per_s, {}, {}, {}, {}, ""});
    if (!s.points.empty()) c.series.push_back(s);
  }
  return render_chart(c, left, top);
}

std::string render_latency_chart(const StudyData& study, const std::string& shape, const std::string& metric,
                                 double left, double top) {
  Chart c;
  std::string name = metric == "ttft_ms" ? "TTFT" : metric == "tpot_ms" ? "TPOT" : metric;
  c.title = name + " percentiles, shape " + shape;
  c.note = "p50 solid, p99 dashed (medians of repeats); lower is better";
  c.y_label = name + " (ms)";
  c.width = 660;
  c.height = 400;
  double lo = 1e300, hi = 0;
  std::string kind;
  size_t color = 0;
  for (const auto& m : study.models) {
    const char* col = palette(color++);
    for (const char* stat : {"p50", "p99"}) {
      ChartSeries s;
      s.name = std::string(stat) == "p50" ? m.info.name : "";  // one legend entry per model
      s.color = col;
      s.line = true;
      s.dashed = std::string(stat) == "p99";
      for (const auto& l : m.perf) {
        if (l.shape != shape) continue;
        auto it = l.latency_ms.find(metric + "." + stat);
        if (it == l.latency_ms.end()) continue;
        s.points.push_back({l.load, it->second, {}, {}, {}, {}, ""});
        lo = std::min(lo, l.load);
        hi = std::max(hi, l.load);
        kind = l.load_kind;
      }
      if (!s.points.empty()) c.series.push_back(s);
    }
  }
  c.x_label = kind == "concurrency" ? "concurrency (requests in flight)"
              : kind == "rate"      ? "request rate (requests/s)"
              : kind.empty()        ? "load"
                                    : kind;
  c.log_x = lo > 0 && hi / lo > 5;
  return render_chart(c, left, top);
}

std::string render_index_html(const StudyData& study, const std::vector<ParetoPanel>& panels,
                              const GateDecision* decision, const GatePolicy* policy) {
  std::string o =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>hybench report</title>\n";
  o += "<style>" + std::string(kStyle) + "</style>\n</head>\n<body>\n";
  std::vector<std::string> run_names;
  for (const auto& r : study.runs) run_names.push_back(r.name);
  std::string runs_text;
  for (const auto& n : run_names) runs_text += (runs_text.empty() ? "" : ", ") + n;
  o += "<h1>hybench report</h1>\n<div class=\"muted\">runs: " + esc(runs_text) +
       " &middot; baseline: " + esc(study.baseline.empty() ? "none" : study.baseline) + " &middot; " +
       std::to_string(study.models.size()) + " models, " + std::to_string(study.suites.size()) + " suites</div>\n";

  // The decision, by one rule: the study's gate policy when it has one, else the default gate, labelled.
  if (decision) o += render_decision_html(*decision);
  for (const auto& w : study.warnings) o += "<div class=\"warn\">warning: " + esc(w) + "</div>\n";

  // Pareto.
  o += "<h2>Quality vs throughput</h2>\n";
  o += "<p class=\"muted\">x: peak output tokens/s over load levels relative to " + esc(study.baseline) +
       " (1x, at each model's best load level); y: score in points (0-100). The line joins the frontier: a point is dominated (grey) only when another is at least as "
       "good on both axes and significantly better on one. Vertical bars: 95% interval over problems (Wilson, "
       "inside 0-100); horizontal bars: range of the repeats. Labels moved away from their point have a leader line."
       "</p>\n";
  double w = 0, h = 0;
  std::string body = render_pareto_body(panels, w, h);
  o += "<svg id=\"pareto\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fixed(w, 0) + "\" height=\"" + fixed(h, 0) +
       "\" viewBox=\"0 0 " + fixed(w, 0) + " " + fixed(h, 0) +
       "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n" + body + "</svg>\n";

  // Scores.
  o += "<h2>Scores</h2>\n<table>\n<tr><th>model</th><th>Mamba layers</th>";
  for (const auto& s : study.suites) o += "<th>" + esc(s.label()) + "</th>";
  o += "</tr>\n";
  const ModelData* base = study.model(study.baseline);
  for (const auto& m : study.models) {
    o += "<tr><td>" + esc(m.info.name) + (m.info.name == study.baseline ? " (baseline)" : "") + "</td><td>" +
         esc(m.info.ratio_label().empty() ? "?" : m.info.ratio_label()) + "</td>";
    for (const auto& s : study.suites) {
      const SuiteScore* sc = nullptr;
      for (const auto& x : m.scores)
        if (x.suite == s.label()) sc = &x;
      if (!sc) {
        o += "<td class=\"num\">&mdash;</td>";
        continue;
      }
      std::string delta;
      if (base && &m != base)
        for (const auto& bs : base->scores)
          if (bs.suite == sc->suite)
            delta = " <span class=\"muted\">(" + (sc->normalized() - bs.normalized() >= 0 ? std::string("+") : "") +
                    fixed((sc->normalized() - bs.normalized()) * 100, 1) + ")</span>";
      auto cut = truncation_rate(m, sc->suite);  // issue #15: shown beside the score
      if (cut && *cut > 0) delta += " <span class=\"muted\">cut " + fixed(*cut * 100, 1) + "%</span>";
      auto ci = stats::score_interval(sc->normalized(), sc->normalized_se(), sc->n);
      o += "<td class=\"num\">" + fixed(sc->normalized() * 100, 1) + " <span class=\"ci\">[" + fixed(ci.low * 100, 1) +
           ", " + fixed(ci.high * 100, 1) + "]</span>" + delta + "</td>";
    }
    o += "</tr>\n";
  }
  o += "</table>\n<p class=\"muted\">Scores in points (x100; 1-10 ratings such as MT-Bench x10) with 95% "
       "intervals [low, high]: Wilson score intervals with the effective number of items, so they stay inside 0-100; "
       "(delta) vs the baseline, whose paired test is in the gate table. ";
  bool multi = false;
  for (const auto& m : study.models)
    for (const auto& sc : m.scores) multi = multi || sc.samples_per_item > 1;
  if (multi) o += "Multi-sample suites average each problem's samples first; the interval is over problems. ";
  o += "\"cut N%\": share of the samples cut by the token limit (truncation rule: those count only with an explicit final answer). ";
  o += "Metric per suite: ";
  if (!study.models.empty()) {
    std::string metrics;
    for (const auto& sc : study.models.front().scores)
      metrics += (metrics.empty() ? "" : ", ") + sc.suite + " " + sc.metric;
    o += esc(metrics);
  }
  o += ".</p>\n";

  // Gate details.
  if (decision && !decision->candidates.empty()) {
    o += "<h2>Gate against " + esc(decision->baseline) + "</h2>\n<p class=\"muted\">" + esc(decision->origin) +
         ". Each row shows the number that decided it next to its threshold; the other figures are context.</p>\n"
         "<table class=\"gate\">\n<tr><th>candidate</th><th>check</th><th>verdict</th><th>decided by</th>"
         "<th>secondary</th></tr>\n";
    for (const auto& c : decision->candidates) o += gate_rows(c);
    o += "</table>\n";
  }

  // Throughput curves and latency.
  if (!study.shapes.empty()) {
    o += "<h2>Throughput across load levels</h2>\n";
    double cw = 660, ch = 400;
    std::string tb;
    for (size_t i = 0; i < study.shapes.size(); ++i)
      tb += render_throughput_chart(study, study.shapes[i], cw * static_cast<double>(i % 2),
                                    ch * static_cast<double>(i / 2));
    double tw = cw * static_cast<double>(std::min<size_t>(2, study.shapes.size()));
    double th = ch * static_cast<double>((study.shapes.size() + 1) / 2);
    o += "<svg id=\"throughput\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fixed(tw, 0) + "\" height=\"" +
         fixed(th, 0) + "\" viewBox=\"0 0 " + fixed(tw, 0) + " " + fixed(th, 0) +
         "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n" + tb + "</svg>\n";
    std::string lb;
    for (size_t i = 0; i < study.shapes.size(); ++i) {
      lb += render_latency_chart(study, study.shapes[i], "ttft_ms", 0, ch * static_cast<double>(i));
      lb += render_latency_chart(study, study.shapes[i], "tpot_ms", cw, ch * static_cast<double>(i));
    }
    std::string lw = fixed(2 * cw, 0), lh = fixed(ch * static_cast<double>(study.shapes.size()), 0);
    o += "<h2>Latency percentiles</h2>\n<svg id=\"latency\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + lw +
         "\" height=\"" + lh + "\" viewBox=\"0 0 " + lw + " " + lh +
         "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n" + lb + "</svg>\n";
    o += "<h3>Latency percentiles (ms, median of repeats)</h3>\n<table>\n<tr><th>shape</th><th>model</th><th>load</th>"
         "<th>output tok/s</th><th>TTFT p50</th><th>TTFT p90</th><th>TTFT p99</th><th>TPOT p50</th><th>TPOT p99</th>"
         "<th>E2E p50</th><th>E2E p99</th><th>repeats</th><th>errors</th></tr>\n";
    for (const auto& shape : study.shapes)
      for (const auto& m : study.models)
        for (const auto& l : m.perf) {
          if (l.shape != shape) continue;
          auto lat = [&](const char* k) {
            auto it = l.latency_ms.find(k);
            return it == l.latency_ms.end() ? std::string("&mdash;") : fixed(it->second, 1);
          };
          o += "<tr><td>" + esc(shape) + "</td><td>" + esc(m.info.name) + "</td><td>" + esc(l.load_kind) + "=" +
               fixed(l.load, 0) + "</td><td class=\"num\">" + fixed(l.median_output_tok_per_s, 1) +
               "</td><td class=\"num\">" + lat("ttft_ms.p50") + "</td><td class=\"num\">" + lat("ttft_ms.p90") +
               "</td><td class=\"num\">" + lat("ttft_ms.p99") + "</td><td class=\"num\">" + lat("tpot_ms.p50") +
               "</td><td class=\"num\">" + lat("tpot_ms.p99") + "</td><td class=\"num\">" + lat("e2e_ms.p50") +
               "</td><td class=\"num\">" + lat("e2e_ms.p99") + "</td><td class=\"num\">" + std::to_string(l.repeats) +
               "</td><td class=\"num\">" + std::to_string(l.errors) + "</td></tr>\n";
        }
    o +=
        "</table>\n<p class=\"muted\">Shapes are input:output tokens. TPOT excludes the first token; throughput counts "
        "output tokens over the point's wall-clock window (see docs/METRICS.md).</p>\n";
  }

  o += render_importance_section(study.importance);

  // Provenance.
  o += "<h2>Provenance</h2>\n<table>\n<tr><th>run</th><th>kind</th><th>status</th><th>failed samples</th><th>git sha</th>"
       "<th>config hash</th><th>environment</th></tr>\n";
  for (const auto& r : study.runs)
    o += "<tr><td>" + esc(r.name) + "</td><td>" + esc(r.kind) + "</td><td>" + esc(r.status) + "</td><td>" +
         std::to_string(r.failed_samples) + " of " + std::to_string(r.samples) + "</td><td>" +
         esc(r.git_sha.empty() ? "unknown" : r.git_sha) + "</td><td>" + esc(r.config_hash) + "</td><td>" +
         esc(env_summary(r.environment)) + "</td></tr>\n";
  o += "</table>\n<table>\n<tr><th>suite</th><th>variant</th><th>version</th><th>prompt hash</th></tr>\n";
  for (const auto& s : study.suites)
    o += "<tr><td>" + esc(s.name) + "</td><td>" + esc(s.variant) + "</td><td>" + esc(s.version) + "</td><td>" +
         esc(s.prompt_hash) + "</td></tr>\n";
  o += "</table>\n<table>\n<tr><th>model</th><th>spec</th><th>layout</th><th>parameters</th></tr>\n";
  for (const auto& m : study.models)
    o += "<tr><td>" + esc(m.info.name) + "</td><td>" + esc(m.info.spec) + "</td><td><code>" +
         esc(m.info.layout.value_or("?")) + "</code></td><td>" +
         (m.info.params ? std::to_string(*m.info.params) : std::string("?")) + "</td></tr>\n";
  o += "</table>\n";
  if (study.warnings.empty()) o += "<p class=\"muted\">No warnings.</p>\n";
  o += "<p class=\"muted\">Generated by hybench report from the stored results only; no network resources.</p>\n";
  o += "</body>\n</html>\n";
  return o;
}

}  // namespace hb::reports
