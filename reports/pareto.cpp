#include "reports/pareto.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "reports/format.h"
#include "reports/stats/intervals.h"
#include "reports/svg_chart.h"

namespace hb::reports {
namespace {

constexpr double kPanelW = 660, kPanelH = 450, kMinNoise = 0.03;

double spread(const ParetoPoint& p) { return p.x > 0 ? (p.x_high - p.x_low) / (2 * p.x) : 0; }

bool quality_better(const ParetoPoint& q, const ParetoPoint& p) {
  double se = std::sqrt(q.y_se * q.y_se + p.y_se * p.y_se);
  return q.y - p.y > 1.959964 * se && q.y > p.y;
}

bool speed_better(const ParetoPoint& q, const ParetoPoint& p) {
  double band = std::max(kMinNoise, spread(q) + spread(p));
  return q.x > p.x * (1 + band);
}

}  // namespace

void mark_frontier(std::vector<ParetoPoint>& points) {
  for (auto& p : points) {
    p.frontier = true;
    p.dominated_by.clear();
    for (const auto& q : points) {
      if (&q == &p) continue;
      if (q.x >= p.x && q.y >= p.y && (quality_better(q, p) || speed_better(q, p))) {
        p.frontier = false;
        p.dominated_by = q.model;
        break;
      }
    }
  }
}

std::vector<ParetoPanel> compute_pareto(const StudyData& study) {
  std::vector<ParetoPanel> panels;
  const ModelData* base = study.model(study.baseline);
  if (!base) return panels;
  for (const auto& shape : study.shapes) {
    const PerfLevel* base_peak = peak_level(*base, shape);
    if (!base_peak || base_peak->median_output_tok_per_s <= 0) continue;
    std::vector<const ModelData*> members;
    for (const auto& m : study.models)
      if (peak_level(m, shape)) members.push_back(&m);
    // Suites every member has.
    std::vector<std::string> common;
    for (const auto& s : study.suites) {
      std::string label = s.label();
      bool all = !members.empty();
      for (const auto* m : members) {
        bool has = false;
        for (const auto& sc : m->scores) has = has || sc.suite == label;
        all = all && has;
      }
      if (all && std::find(common.begin(), common.end(), label) == common.end()) common.push_back(label);
    }
    std::vector<std::string> panel_suites = {"average"};
    panel_suites.insert(panel_suites.end(), common.begin(), common.end());
    for (const auto& which : panel_suites) {
      ParetoPanel panel;
      panel.shape = shape;
      panel.suite = which;
      panel.baseline = study.baseline;
      panel.suites = which == "average" ? common : std::vector<std::string>{which};
      if (panel.suites.empty()) continue;
      for (const auto* m : members) {
        const PerfLevel* peak = peak_level(*m, shape);
        ParetoPoint p;
        p.model = m->info.name;
        p.ratio_label = m->info.ratio_label();
        p.tok_per_s = peak->median_output_tok_per_s;
        p.x = peak->median_output_tok_per_s / base_peak->median_output_tok_per_s;
        p.x_low = peak->output_tok_per_s.front() / base_peak->median_output_tok_per_s;
        p.x_high = peak->output_tok_per_s.back() / base_peak->median_output_tok_per_s;
        double sum = 0, var = 0;
        for (const auto& s : panel.suites)
          for (const auto& sc : m->scores)
            if (sc.suite == s) {
              sum += sc.normalized();
              var += sc.normalized_se() * sc.normalized_se();
              p.n = p.n == 0 ? sc.n : std::min(p.n, sc.n);
            }
        double k = static_cast<double>(panel.suites.size());
        p.y = sum / k;
        p.y_se = std::sqrt(var) / k;
        auto ci = stats::score_interval(p.y, p.y_se, p.n);
        p.y_low = ci.low;
        p.y_high = ci.high;
        panel.points.push_back(p);
      }
      std::sort(panel.points.begin(), panel.points.end(), [](const ParetoPoint& a, const ParetoPoint& b) {
        return std::tie(a.x, a.model) < std::tie(b.x, b.model);
      });
      mark_frontier(panel.points);
      double lo = 1e300, hi = 0;
      for (const auto& p : panel.points) {
        lo = std::min(lo, p.x_low);
        hi = std::max(hi, p.x_high);
      }
      panel.log_x = lo > 0 && hi / lo > 5;
      panels.push_back(std::move(panel));
    }
  }
  return panels;
}

std::string render_pareto_body(const std::vector<ParetoPanel>& panels, double& width, double& height) {
  std::string body;
  if (panels.empty()) {
    body = "<text x=\"20\" y=\"40\" font-size=\"14\">No Pareto plot: the baseline has no throughput data.</text>\n";
    height = 80;
    width = 520;
    return body;
  }
  // Panels flow in rows of kParetoColumns; each shape starts a new row so shapes never share one.
  size_t row = 0, col = 0;
  std::string shape = panels.front().shape;
  for (const auto& p : panels) {
    if (p.shape != shape || col == kParetoColumns) {
      ++row;
      col = 0;
      shape = p.shape;
    }
    double base_tok = 0;
    for (const auto& pt : p.points)
      if (pt.model == p.baseline) base_tok = pt.tok_per_s;
    Chart chart;
    chart.width = kPanelW;
    chart.height = kPanelH;
    chart.log_x = p.log_x;
    chart.title = (p.suite == "average" ? "Average score" : p.suite) + " vs throughput, shape " + p.shape;
    chart.note = (p.suite == "average" ? "mean of " + std::to_string(p.suites.size()) + " suites; " : std::string()) +
                 "bars: 95% interval (score), range of repeats (throughput)";
    chart.x_label = "peak output tok/s relative to " + p.baseline + " (" + p.baseline + " = 1x = " +
                    fixed(base_tok, base_tok >= 100 ? 0 : 1) + " tok/s)";
    chart.y_label = (p.suite == "average" ? "average score" : "score") + std::string(" (points, 0-100)");
    chart.y_floor = 0;
    chart.y_ceil = 100;
    ChartSeries line;
    line.name = "frontier";
    line.color = palette(0);
    line.markers = false;
    line.line = true;
    ChartSeries front, dominated;
    front.color = palette(0);
    dominated.muted = true;
    dominated.name = "dominated";
    for (const auto& pt : p.points) {
      ChartPoint cp;
      cp.x = pt.x;
      cp.y = pt.y * 100;
      cp.y_low = pt.y_low * 100;
      cp.y_high = pt.y_high * 100;
      cp.x_low = pt.x_low;
      cp.x_high = pt.x_high;
      cp.label = pt.model + (pt.ratio_label.empty() ? "" : " (" + pt.ratio_label + ")");
      if (pt.frontier) {
        line.points.push_back({pt.x, pt.y * 100, {}, {}, {}, {}, ""});
        front.points.push_back(cp);
      } else {
        dominated.points.push_back(cp);
      }
    }
    chart.series.push_back(line);
    if (!dominated.points.empty()) chart.series.push_back(dominated);
    chart.series.push_back(front);
    body += render_chart(chart, kPanelW * static_cast<double>(col), kPanelH * static_cast<double>(row));
    ++col;
  }
  size_t cols = 1;
  {
    size_t c = 0;
    std::string sh = panels.front().shape;
    for (const auto& p : panels) {
      if (p.shape != sh || c == kParetoColumns) c = 0, sh = p.shape;
      cols = std::max(cols, ++c);
    }
  }
  width = kPanelW * static_cast<double>(cols);
  height = kPanelH * static_cast<double>(row + 1);
  return body;
}

std::string render_pareto_svg(const std::vector<ParetoPanel>& panels) {
  double w = 0, h = 0;
  std::string body = render_pareto_body(panels, w, h);
  return svg_document(w, h, body, "hybench: quality vs throughput Pareto frontier");
}

}  // namespace hb::reports
