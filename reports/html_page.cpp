#include "reports/html_page.h"

#include <algorithm>

#include "reports/format.h"
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
.warn{background:#fff6e0;border-left:5px solid #ff7f0e;padding:6px 12px;margin:4px 0;font-size:13px}
table{border-collapse:collapse;font-size:13px;margin:6px 0}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:left} td.num{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f4f4f4} .muted{color:#777;font-size:12px} svg{max-width:100%;height:auto}
)CSS";

std::string margin_text(const GateDecision* d, const CandidateVerdict* c) {
  if (!c || c->suites.empty()) return "the default margin";
  std::string out;
  for (const auto& s : c->suites)
    out += (out.empty() ? "" : ", ") + s.suite + " " + fixed(s.margin * 100, 1) + " points";
  return "margins " + out;
}

}  // namespace

std::string render_throughput_chart(const StudyData& study, const std::string& shape, double left, double top) {
  Chart c;
  c.title = "Throughput curves, shape " + shape;
  c.note = "one point per load level (median of repeats); up and right is better";
  c.x_label = "total output tokens/s";
  c.y_label = "output tokens/s per user";
  c.width = 560;
  c.height = 360;
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
  c.width = 560;
  c.height = 360;
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
  c.x_label = kind.empty() ? "load" : kind;
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

  // Recommendation.
  if (decision) {
    if (decision->chosen) {
      const CandidateVerdict* c = nullptr;
      for (const auto& v : decision->candidates)
        if (v.model == *decision->chosen) c = &v;
      std::string speed = c && c->throughput_ratio
                              ? fixed(*c->throughput_ratio, 2) + "x the output throughput of " + decision->baseline
                              : "";
      o += "<div class=\"verdict\" id=\"recommendation\"><b>Recommended: " + esc(*decision->chosen) +
           (c && !c->ratio_label.empty() ? " (" + esc(c->ratio_label) + ")" : "") + "</b>" +
           (speed.empty() ? "" : " &mdash; " + esc(speed)) +
           (policy && policy->shape ? " at " + esc(*policy->shape) : "") + ", non-inferior to " +
           esc(decision->baseline) + " on every suite (" + margin_text(decision, c) +
           "; paired one-sided test at 95%). It is " + esc(decision->rule) + ".</div>\n";
    } else {
      o += "<div class=\"verdict none\" id=\"recommendation\"><b>No hybrid passes the default gate</b> against " +
           esc(decision->baseline) + " (non-inferiority on every suite within " +
           margin_text(decision, decision->candidates.empty() ? nullptr : &decision->candidates.front()) +
           "; see the gate table).</div>\n";
    }
  }
  for (const auto& w : study.warnings) o += "<div class=\"warn\">warning: " + esc(w) + "</div>\n";

  // Pareto.
  o += "<h2>Quality vs throughput</h2>\n";
  o += "<p class=\"muted\">x: peak output tokens/s over load levels relative to " + esc(study.baseline) +
       " (1x); y: score. The line joins the frontier: a point is dominated (grey) only when another is at least as "
       "good on both axes and significantly better on one. Vertical bars: 95% CI over problems; horizontal bars: "
       "range of the repeats.</p>\n";
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
      o += "<td class=\"num\">" + fixed(sc->normalized() * 100, 1) + " &plusmn; " + fixed(1.959964 * sc->normalized_se() * 100, 1) + delta +
           "</td>";
    }
    o += "</tr>\n";
  }
  o += "</table>\n<p class=\"muted\">Scores in points (x100; 1-10 ratings such as MT-Bench x10) with 95% CI "
       "half-widths; (delta) vs the baseline. ";
  bool multi = false;
  for (const auto& m : study.models)
    for (const auto& sc : m.scores) multi = multi || sc.samples_per_item > 1;
  if (multi) o += "Multi-sample suites average each problem's samples first; the interval is over problems. ";
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
    o += "<h2>Gate against " + esc(decision->baseline) +
         "</h2>\n<table>\n<tr><th>candidate</th><th>verdict</th><th>checks</th></tr>\n";
    for (const auto& c : decision->candidates) {
      o += "<tr><td>" + esc(c.model) + "</td><td>" + (c.passed ? "pass" : "fail") + "</td><td>";
      for (size_t i = 0; i < c.reasons.size(); ++i) o += (i ? "<br>" : "") + esc(c.reasons[i]);
      o += "</td></tr>\n";
    }
    o += "</table>\n";
  }

  // Throughput curves and latency.
  if (!study.shapes.empty()) {
    o += "<h2>Throughput across load levels</h2>\n";
    double cw = 560, ch = 360;
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
