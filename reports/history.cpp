#include "reports/history.h"

#include <algorithm>
#include <map>
#include <set>

#include "harness/base/error.h"
#include "harness/base/strings.h"
#include "reports/format.h"
#include "reports/svg_chart.h"

namespace hb::reports {
namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::optional<double> perf_value(const PerfPoint& p, const std::string& metric) {
  auto dot = metric.find('.');
  if (dot == std::string::npos) return p.get(metric);
  return p.get(metric.substr(0, dot), metric.substr(dot + 1));
}

}  // namespace

std::vector<HistoryPoint> metric_history(const ResultsDb& db, const std::string& model, const std::string& metric) {
  std::vector<std::string> models;
  for (const auto& m : db.models()) models.push_back(m.name);
  if (std::find(models.begin(), models.end(), model) == models.end()) {
    std::string hint = did_you_mean(model, models);
    throw Error(ErrorCode::usage, "unknown model '" + model + "'" + (hint.empty() ? "" : "; " + hint) +
                                      "; models: " + (models.empty() ? "(none)" : join(models, ", ")));
  }
  std::map<int64_t, std::string> run_names;
  for (const auto& r : db.runs()) run_names[r.id] = r.name;
  std::vector<HistoryPoint> out;
  std::set<std::string> known;
  for (const auto& row : db.metric_rows(db.runs())) {
    if (row.model != model) continue;
    known.insert(row.metric);
    if (row.metric != metric || !row.value) continue;
    out.push_back({row.run, row.run_id, row.variant.empty() ? row.suite : row.suite + "/" + row.variant, row.n,
                   *row.value, row.stderr_});
  }
  if (out.empty()) {
    std::map<std::tuple<int64_t, std::string>, std::vector<double>> groups;
    for (const auto& p : db.perf_points(db.runs())) {
      if (p.model != model) continue;
      for (const auto& [k, v] : p.metrics.items()) {
        if (v.is_number()) known.insert(k);
        if (v.is_object())
          for (const auto& [s, x] : v.items())
            if (x.is_number()) known.insert(k + "." + s);
      }
      if (auto v = perf_value(p, metric))
        groups[{p.run_id, p.shape + " " + p.load_kind + "=" + fixed(p.load_value, 0)}].push_back(*v);
    }
    for (const auto& [key, values] : groups)
      out.push_back({run_names[std::get<0>(key)], std::get<0>(key), std::get<1>(key),
                     static_cast<int64_t>(values.size()), median(values), std::nullopt});
  }
  if (out.empty()) {
    std::vector<std::string> names(known.begin(), known.end());
    std::string hint = did_you_mean(metric, names);
    throw Error(ErrorCode::usage, "model '" + model + "' has no values of metric '" + metric + "'" +
                                      (hint.empty() ? "" : "; " + hint) +
                                      "; metrics: " + (names.empty() ? "(none)" : join(names, ", ")));
  }
  std::stable_sort(out.begin(), out.end(), [](const HistoryPoint& a, const HistoryPoint& b) {
    return std::tie(a.run_id, a.series) < std::tie(b.run_id, b.series);
  });
  return out;
}

std::string render_history_table(const std::vector<HistoryPoint>& points, const std::string& model,
                                 const std::string& metric) {
  std::string o = "history of " + model + " " + metric + "\n";
  o += "| run | series | n | value | stderr | change |\n| --- | --- | ---: | ---: | ---: | ---: |\n";
  std::map<std::string, double> last;
  for (const auto& p : points) {
    std::string change = last.count(p.series) ? fixed(p.value - last[p.series], 4) : "";
    if (!change.empty() && change[0] != '-') change = "+" + change;
    o += "| " + md_cell(p.run) + " | " + md_cell(p.series) + " | " + std::to_string(p.n) + " | " + fixed(p.value, 4) +
         " | " + fixed(p.se, 4) + " | " + change + " |\n";
    last[p.series] = p.value;
  }
  return o;
}

std::string render_history_svg(const std::vector<HistoryPoint>& points, const std::string& model,
                               const std::string& metric) {
  std::vector<std::string> runs;
  for (const auto& p : points)
    if (std::find(runs.begin(), runs.end(), p.run) == runs.end()) runs.push_back(p.run);
  std::map<std::string, ChartSeries> series;
  std::vector<std::string> order;
  for (const auto& p : points) {
    if (!series.count(p.series)) {
      order.push_back(p.series);
      series[p.series].name = p.series;
      series[p.series].color = palette(order.size() - 1);
      series[p.series].line = true;
    }
    double x = static_cast<double>(std::find(runs.begin(), runs.end(), p.run) - runs.begin()) + 1;
    ChartPoint cp{x, p.value, {}, {}, {}, {}, ""};
    if (p.se) {
      cp.y_low = p.value - 1.959964 * *p.se;
      cp.y_high = p.value + 1.959964 * *p.se;
    }
    series[p.series].points.push_back(cp);
  }
  Chart c;
  c.title = model + ": " + metric + " over runs";
  c.note = "runs 1.." + std::to_string(runs.size()) + ": " + runs.front() + " ... " + runs.back() + "; bars: 95% CI";
  c.x_label = "run (in order of creation)";
  c.y_label = metric;
  c.width = 640;
  c.height = 380;
  for (const auto& name : order) c.series.push_back(series[name]);
  return svg_document(c.width, c.height, render_chart(c, 0, 0), "hybench history: " + model + " " + metric);
}

}  // namespace hb::reports
