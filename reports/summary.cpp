#include "reports/summary.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "reports/format.h"

namespace hb::reports {
namespace {

nlohmann::ordered_json number_or_null(const std::optional<double>& v) {
  if (!v || !std::isfinite(*v)) return nullptr;
  return rounded(*v, 6);
}

std::string suite_label(const MetricRow& r) { return r.variant.empty() ? r.suite : r.suite + "/" + r.variant; }

}  // namespace

std::string render_summary_json(const std::vector<MetricRow>& rows) {
  nlohmann::ordered_json doc;
  doc["schema_version"] = kSummarySchemaVersion;
  doc["rows"] = nlohmann::ordered_json::array();
  for (const auto& r : rows) {
    nlohmann::ordered_json row;
    row["run"] = r.run;
    row["model"] = r.model;
    row["suite"] = r.suite;
    row["variant"] = r.variant;
    row["metric"] = r.metric;
    row["n"] = r.n;
    row["value"] = number_or_null(r.value);
    row["stderr"] = number_or_null(r.stderr_);
    doc["rows"].push_back(std::move(row));
  }
  return doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

std::string render_summary_md(const std::vector<RunInfo>& runs, const std::vector<MetricRow>& rows) {
  std::string out = "# hybench summary\n\n";
  out +=
      "Scores per run, model, suite and metric. n counts items (problems); stderr is over items, so for\n"
      "multi-sample suites it is clustered over problems. 95% CI = value +- 1.96 stderr.\n\n";
  if (rows.empty()) {
    out += "No metrics are stored for the selected runs.\n";
  } else {
    out += "| run | model | suite | metric | n | value | stderr | 95% CI |\n";
    out += "| --- | --- | --- | --- | ---: | ---: | ---: | --- |\n";
    for (const auto& r : rows) {
      std::string ci = "n/a";
      if (r.value && r.stderr_ && std::isfinite(*r.value) && std::isfinite(*r.stderr_))
        ci = "[" + fixed(*r.value - 1.96 * *r.stderr_, 4) + ", " + fixed(*r.value + 1.96 * *r.stderr_, 4) + "]";
      out += "| " + md_cell(r.run) + " | " + md_cell(r.model) + " | " + md_cell(suite_label(r)) + " | " +
             md_cell(r.metric) + " | " + std::to_string(r.n) + " | " + fixed(r.value, 4) + " | " + fixed(r.stderr_, 4) +
             " | " + ci + " |\n";
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
