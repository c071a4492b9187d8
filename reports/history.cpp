#include "reports/history.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "harness/base/error.h"
#include "harness/base/strings.h"
#include "reports/format.h"
#include "reports/stats/intervals.h"
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

// "did you mean 'a', 'b' or 'c'? (42 metrics, e.g. ...)": the three closest names by edit distance.
std::string closest_names(const std::string& given, std::vector<std::string> names) {
  if (names.empty()) return "it has no metrics";
  std::stable_sort(names.begin(), names.end(), [&](const std::string& a, const std::string& b) {
    return edit_distance(given, a) < edit_distance(given, b);
  });
  size_t k = std::min<size_t>(3, names.size());
  std::string out = "did you mean ";
  for (size_t i = 0; i < k; ++i) out += (i ? (i + 1 == k ? " or " : ", ") : "") + ("'" + names[i] + "'");
  return out + "? (" + std::to_string(names.size()) + " metrics stored for it)";
}

std::string short_date(const std::string& iso) { return iso.size() >= 10 ? iso.substr(0, 10) : iso; }

}  // namespace

std::string default_history_svg_name(const std::string& model, const std::string& metric) {
  std::string out = "history-" + model + "-" + metric;
  for (char& c : out)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) c = '_';
  return out + ".svg";
}

std::vector<HistoryPoint> metric_history(const ResultsDb& db, const std::string& model, const std::string& metric) {
  std::vector<std::string> models;
  for (const auto& m : db.models()) models.push_back(m.name);
  if (std::find(models.begin(), models.end(), model) == models.end()) {
    std::string hint = did_you_mean(model, models);
    throw Error(ErrorCode::usage, "unknown model '" + model + "'" + (hint.empty() ? "" : "; " + hint) +
                                      "; models: " + (models.empty() ? "(none)" : join(models, ", ")));
  }
  std::map<int64_t, std::string> run_names, run_dates;
  for (const auto& r : db.runs()) {
    run_names[r.id] = r.name;
    run_dates[r.id] = r.started_at;
  }
  std::vector<HistoryPoint> out;
  std::set<std::string> known;
  for (const auto& row : db.metric_rows(db.runs())) {
    if (row.model != model) continue;
    known.insert(row.metric);
    if (row.metric != metric || !row.value) continue;
    out.push_back({row.run, row.run_id, run_dates[row.run_id],
                   row.variant.empty() ? row.suite : row.suite + "/" + row.variant, row.n, *row.value, row.stderr_});
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
      out.push_back({run_names[std::get<0>(key)], std::get<0>(key), run_dates[std::get<0>(key)], std::get<1>(key),
                     static_cast<int64_t>(values.size()), median(values), std::nullopt});
  }
  if (out.empty()) {
    std::vector<std::string> names(known.begin(), known.end());
    throw Error(ErrorCode::usage, "model '" + model + "' has no values of metric '" + metric + "'; " +
                                      closest_names(metric, names));
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
  std::vector<std::string> runs, dates;
  bool any_se = false;
  for (const auto& p : points) {
    any_se = any_se || p.se.has_value();
    if (std::find(runs.begin(), runs.end(), p.run) == runs.end()) {
      runs.push_back(p.run);
      dates.push_back(p.started_at);
    }
  }
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
      auto ci = p.value >= 0 && p.value <= 1 ? stats::score_interval(p.value, *p.se, p.n)
                                             : stats::Interval{p.value - 1.959964 * *p.se, p.value + 1.959964 * *p.se};
      cp.y_low = ci.low;
      cp.y_high = ci.high;
    }
    series[p.series].points.push_back(cp);
  }
  Chart c;
  c.title = model + ": " + metric + " over runs";
  c.note = std::to_string(runs.size()) + " run(s), oldest first" + (any_se ? "; bars: 95% interval" : "");
  c.x_label = "run (in order of creation; date = start, UTC)";
  c.y_label = metric;
  c.width = 720;
  c.height = 420;
  for (size_t i = 0; i < runs.size(); ++i) {
    std::string name = runs[i].size() > 16 ? runs[i].substr(0, 15) + "~" : runs[i];
    c.x_ticks.push_back({static_cast<double>(i + 1), name + "\n" + short_date(dates[i])});
  }
  bool non_negative = true, unit = true;
  for (const auto& p : points) {
    non_negative = non_negative && p.value >= 0;
    unit = unit && p.value >= 0 && p.value <= 1;
  }
  if (non_negative) c.y_floor = 0;
  if (unit) c.y_ceil = 1;
  c.x_min = 0.5;
  c.x_max = static_cast<double>(runs.size()) + 0.5;
  for (const auto& name : order) c.series.push_back(series[name]);
  return svg_document(c.width, c.height, render_chart(c, 0, 0), "hybench history: " + model + " " + metric);
}

}  // namespace hb::reports
