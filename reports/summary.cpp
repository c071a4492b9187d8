#include "reports/summary.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "reports/format.h"
#include "reports/stats/intervals.h"

namespace hb::reports {
namespace {

using ojson = nlohmann::ordered_json;

ojson number_or_null(const std::optional<double>& v) {
  if (!v || !std::isfinite(*v)) return nullptr;
  return rounded(*v, 6);
}

std::string suite_label(const MetricRow& r) { return r.variant.empty() ? r.suite : r.suite + "/" + r.variant; }

ojson frontier_json(const std::vector<ParetoPanel>& panels) {
  ojson out = ojson::array();
  for (const auto& p : panels) {
    ojson pj;
    pj["shape"] = p.shape;
    pj["panel"] = p.suite;
    pj["suites"] = p.suites;
    pj["baseline"] = p.baseline;
    pj["x"] = "peak output tok/s relative to the baseline";
    pj["y"] = "score in [0, 1]";
    pj["on_frontier"] = ojson::array();
    pj["points"] = ojson::array();
    for (const auto& pt : p.points) {
      if (pt.frontier) pj["on_frontier"].push_back(pt.model);
      ojson x;
      x["model"] = pt.model;
      x["on_frontier"] = pt.frontier;
      x["dominated_by"] = pt.dominated_by.empty() ? ojson(nullptr) : ojson(pt.dominated_by);
      x["x"] = rounded(pt.x, 6);
      x["x_range"] = {rounded(pt.x_low, 6), rounded(pt.x_high, 6)};
      x["tok_per_s"] = rounded(pt.tok_per_s, 3);
      x["y"] = rounded(pt.y, 6);
      x["y_ci95"] = {rounded(pt.y_low, 6), rounded(pt.y_high, 6)};
      x["n"] = pt.n;
      pj["points"].push_back(x);
    }
    out.push_back(pj);
  }
  return out;
}

ojson throughput_json(const StudyData& study) {
  ojson out = ojson::array();
  for (const auto& m : study.models)
    for (const auto& l : m.perf) {
      ojson x;
      x["model"] = m.info.name;
      x["shape"] = l.shape;
      x["load_kind"] = l.load_kind;
      x["load"] = rounded(l.load, 6);
      x["repeats"] = l.repeats;
      x["output_tok_per_s"] = rounded(l.median_output_tok_per_s, 3);
      ojson reps = ojson::array();
      for (double v : l.output_tok_per_s) reps.push_back(rounded(v, 3));
      x["output_tok_per_s_repeats"] = reps;
      x["per_user_tok_per_s"] = l.per_user_tok_per_s ? ojson(rounded(*l.per_user_tok_per_s, 3)) : ojson(nullptr);
      const PerfLevel* peak = peak_level(m, l.shape);
      x["peak"] = peak == &l;
      out.push_back(x);
    }
  return out;
}

std::string decision_line(const GateDecision& d) {
  if (d.no_decision) return "no decision: too little data";
  if (d.chosen) return "recommended: " + *d.chosen;
  return "no candidate passes";
}

}  // namespace

std::optional<stats::Interval> row_interval(const MetricRow& r) {
  if (!r.value || !r.stderr_ || !std::isfinite(*r.value) || !std::isfinite(*r.stderr_)) return std::nullopt;
  if (*r.value >= 0 && *r.value <= 1) return stats::score_interval(*r.value, *r.stderr_, r.n);
  return stats::Interval{*r.value - 1.959964 * *r.stderr_, *r.value + 1.959964 * *r.stderr_};
}

std::string render_summary_json(const std::vector<MetricRow>& rows, const StudyData* study,
                                 const std::vector<ParetoPanel>* panels, const GateDecision* decision) {
  ojson doc;
  doc["schema_version"] = kSummarySchemaVersion;
  doc["rows"] = ojson::array();
  for (const auto& r : rows) {
    ojson row;
    row["run"] = r.run;
    row["model"] = r.model;
    row["suite"] = r.suite;
    row["variant"] = r.variant;
    row["metric"] = r.metric;
    row["n"] = r.n;
    row["value"] = number_or_null(r.value);
    row["stderr"] = number_or_null(r.stderr_);
    auto ci = row_interval(r);
    row["ci95"] = ci ? ojson{rounded(ci->low, 6), rounded(ci->high, 6)} : ojson(nullptr);
    doc["rows"].push_back(std::move(row));
  }
  doc["baseline"] = study && !study->baseline.empty() ? ojson(study->baseline) : ojson(nullptr);
  doc["frontier"] = panels ? frontier_json(*panels) : ojson::array();
  doc["throughput"] = study ? throughput_json(*study) : ojson::array();
  doc["decision"] = decision ? gate_json(*decision) : ojson(nullptr);
  return doc.dump(2, ' ', false, ojson::error_handler_t::replace) + "\n";
}

std::string render_summary_md(const std::vector<RunInfo>& runs, const std::vector<MetricRow>& rows,
                              const GateDecision* decision) {
  std::string out = "# hybench summary\n\n";
  if (decision) {
    out += "**Decision: " + decision_line(*decision) + "** (" + decision->origin + ": " + decision->policy_text +
           ")\n\n";
    for (const auto& r : decision->no_decision_reasons) out += "- " + md_cell(r) + "\n";
    if (!decision->no_decision_reasons.empty()) out += "\n";
  }
  out +=
      "Scores per run, model, suite and metric. n counts items (problems); stderr is over items, so for\n"
      "multi-sample suites it is clustered over problems. 95% CI: Wilson score interval (effective n =\n"
      "value (1 - value) / stderr^2) for values in [0, 1], so it never leaves [0, 1]; value +- 1.96 stderr otherwise.\n\n";
  if (rows.empty()) {
    out += "No metrics are stored for the selected runs.\n";
  } else {
    out += "| run | model | suite | metric | n | value | stderr | 95% CI |\n";
    out += "| --- | --- | --- | --- | ---: | ---: | ---: | --- |\n";
    for (const auto& r : rows) {
      auto ci = row_interval(r);
      std::string cis = ci ? "[" + fixed(ci->low, 4) + ", " + fixed(ci->high, 4) + "]" : "n/a";
      out += "| " + md_cell(r.run) + " | " + md_cell(r.model) + " | " + md_cell(suite_label(r)) + " | " +
             md_cell(r.metric) + " | " + std::to_string(r.n) + " | " + fixed(r.value, 4) + " | " +
             fixed(r.stderr_, 4) + " | " + cis + " |\n";
    }
  }
  out += "\n## Runs\n\n";
  out += "| run | kind | status | git sha | config hash |\n";
  out += "| --- | --- | --- | --- | --- |\n";
  for (const auto& r : runs)
    out += "| " + md_cell(r.name) + " | " + md_cell(r.kind) + " | " + md_cell(r.status) + " | " +
           md_cell(r.git_sha.empty() ? "unknown" : r.git_sha) + " | " + md_cell(r.config_hash) + " |\n";
  return out;
}

}  // namespace hb::reports
