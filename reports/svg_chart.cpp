#include "reports/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "reports/format.h"
#include "reports/label_placement.h"

namespace hb::reports {
namespace {

constexpr double kMarginLeft = 70, kMarginRight = 18, kMarginTop = 70, kMarginBottom = 52;

std::string num(double v) { return fixed(v, 1); }

struct Axis {
  double lo = 0, hi = 1;
  bool log = false;
  double p0 = 0, p1 = 1;  // pixel ends
  double map(double v) const {
    double a = log ? std::log10(std::max(v, 1e-300)) : v;
    double l = log ? std::log10(lo) : lo, h = log ? std::log10(hi) : hi;
    double f = h > l ? (a - l) / (h - l) : 0.5;
    return p0 + f * (p1 - p0);
  }
};

double nice_step(double range, int target) {
  double raw = range / std::max(1, target);
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double f = raw / mag;
  double step = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  return step * mag;
}

std::vector<double> linear_ticks(double lo, double hi, double step) {
  std::vector<double> t;
  double start = std::ceil(lo / step - 1e-9) * step;
  for (int i = 0; i < 50; ++i) {
    double v = start + i * step;
    if (v > hi + step * 1e-9) break;
    t.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
  }
  return t;
}

std::vector<double> log_ticks(double lo, double hi) {
  std::vector<double> t;
  for (int e = static_cast<int>(std::floor(std::log10(lo))) - 1; e <= static_cast<int>(std::ceil(std::log10(hi)));
       ++e) {
    for (double m : {1.0, 2.0, 5.0}) {
      double v = m * std::pow(10.0, e);
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) t.push_back(v);
    }
  }
  return t;
}

std::string tick_label(double v, double step) {
  double a = std::fabs(v);
  if (a >= 10000) return fixed(v / 1000.0, a >= 100000 ? 0 : 1) + "k";
  int digits = step >= 1 ? 0 : step >= 0.1 ? 1 : step >= 0.01 ? 2 : 3;
  return fixed(v, digits);
}

}  // namespace

const char* palette(size_t i) {
  static const char* colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                 "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};
  return colors[i % (sizeof colors / sizeof colors[0])];
}

std::string render_chart(const Chart& c, double left, double top) {
  double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin, ymin = xmin, ymax = -xmin;
  for (const auto& s : c.series) {
    for (const auto& p : s.points) {
      xmin = std::min({xmin, p.x, p.x_low.value_or(p.x)});
      xmax = std::max({xmax, p.x, p.x_high.value_or(p.x)});
      ymin = std::min({ymin, p.y, p.y_low.value_or(p.y)});
      ymax = std::max({ymax, p.y, p.y_high.value_or(p.y)});
    }
  }
  if (!std::isfinite(xmin)) xmin = 0, xmax = 1, ymin = 0, ymax = 1;
  if (c.x_min) xmin = *c.x_min;
  if (c.x_max) xmax = *c.x_max;
  if (c.y_min) ymin = *c.y_min;
  if (c.y_max) ymax = *c.y_max;
  Axis x, y;
  x.log = c.log_x && xmin > 0;
  if (x.log) {
    x.lo = xmin / 1.15;
    x.hi = xmax * 1.15;
  } else {
    double pad = (xmax - xmin) * 0.08;
    if (pad <= 0) pad = std::max(std::fabs(xmax) * 0.1, 0.1);
    x.lo = (c.x_min ? xmin : xmin - pad);
    x.hi = (c.x_max ? xmax : xmax + pad);
  }
  {
    double pad = (ymax - ymin) * 0.1;
    if (pad <= 0) pad = std::max(std::fabs(ymax) * 0.1, 0.01);
    y.lo = c.y_min ? ymin : ymin - pad;
    y.hi = c.y_max ? ymax : ymax + pad;
    if (c.y_floor) y.lo = std::max(y.lo, *c.y_floor);
    if (c.y_ceil) y.hi = std::min(y.hi, *c.y_ceil);
    if (y.hi <= y.lo) y.hi = y.lo + 1;
  }
  const double bottom = c.x_ticks.empty() ? kMarginBottom : kMarginBottom + 14;  // two-line run ticks
  x.p0 = left + kMarginLeft;
  x.p1 = left + c.width - kMarginRight;
  y.p0 = top + c.height - bottom;
  y.p1 = top + kMarginTop;

  std::string o = "<g class=\"chart\">\n";
  o += "<rect x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" + num(c.width) + "\" height=\"" + num(c.height) +
       "\" fill=\"#ffffff\" stroke=\"#dddddd\"/>\n";
  o += "<text x=\"" + num(left + c.width / 2) + "\" y=\"" + num(top + 18) +
       "\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">" + xml_escape(c.title) + "</text>\n";
  if (!c.note.empty())
    o += "<text x=\"" + num(left + c.width / 2) + "\" y=\"" + num(top + 36) +
         "\" text-anchor=\"middle\" font-size=\"12\" fill=\"#555555\">" + xml_escape(c.note) + "</text>\n";
  // Grid and ticks.
  std::vector<std::pair<double, std::string>> xt = c.x_ticks;
  if (xt.empty()) {
    if (x.log) {
      for (double v : log_ticks(x.lo, x.hi)) xt.push_back({v, (v < 1 ? fixed(v, 1) : fixed(v, 0)) + "x"});
    } else {
      double xstep = nice_step(x.hi - x.lo, 6);
      for (double v : linear_ticks(x.lo, x.hi, xstep)) xt.push_back({v, tick_label(v, xstep)});
    }
  }
  // Explicit ticks (run names) may be too many to print: label every k-th so labels keep ~90 px apart.
  size_t every = 1;
  if (!c.x_ticks.empty() && xt.size() > 1) {
    double px_per_tick = (x.p1 - x.p0) / static_cast<double>(xt.size());
    every = static_cast<size_t>(std::ceil(95.0 / std::max(1.0, px_per_tick)));
  }
  for (size_t i = 0; i < xt.size(); ++i) {
    double px = x.map(xt[i].first);
    o += "<line x1=\"" + num(px) + "\" y1=\"" + num(y.p0) + "\" x2=\"" + num(px) + "\" y2=\"" + num(y.p1) +
         "\" stroke=\"#eeeeee\"/>\n";
    if (i % every != 0) continue;
    std::string label = xt[i].second, second;
    auto nl = label.find('\n');
    if (nl != std::string::npos) {
      second = label.substr(nl + 1);
      label = label.substr(0, nl);
    }
    o += "<text class=\"tick\" x=\"" + num(px) + "\" y=\"" + num(y.p0 + 16) +
         "\" text-anchor=\"middle\" font-size=\"12\">" + xml_escape(label) + "</text>\n";
    if (!second.empty())
      o += "<text class=\"tick\" x=\"" + num(px) + "\" y=\"" + num(y.p0 + 30) +
           "\" text-anchor=\"middle\" font-size=\"11\" fill=\"#555555\">" + xml_escape(second) + "</text>\n";
  }
  double ystep = nice_step(y.hi - y.lo, 5);
  for (double v : linear_ticks(y.lo, y.hi, ystep)) {
    double py = y.map(v);
    o += "<line x1=\"" + num(x.p0) + "\" y1=\"" + num(py) + "\" x2=\"" + num(x.p1) + "\" y2=\"" + num(py) +
         "\" stroke=\"#eeeeee\"/>\n";
    o += "<text class=\"tick\" x=\"" + num(x.p0 - 6) + "\" y=\"" + num(py + 4) +
         "\" text-anchor=\"end\" font-size=\"12\">" + tick_label(v, ystep) + "</text>\n";
  }
  o += "<rect x=\"" + num(x.p0) + "\" y=\"" + num(y.p1) + "\" width=\"" + num(x.p1 - x.p0) + "\" height=\"" +
       num(y.p0 - y.p1) + "\" fill=\"none\" stroke=\"#333333\"/>\n";
  o += "<text x=\"" + num((x.p0 + x.p1) / 2) + "\" y=\"" + num(top + c.height - 10) +
       "\" text-anchor=\"middle\" font-size=\"13\">" + xml_escape(c.x_label) + (x.log ? " (log scale)" : "") +
       "</text>\n";
  o += "<text x=\"" + num(left + 16) + "\" y=\"" + num((y.p0 + y.p1) / 2) +
       "\" text-anchor=\"middle\" font-size=\"13\" transform=\"rotate(-90 " + num(left + 16) + " " +
       num((y.p0 + y.p1) / 2) + ")\">" + xml_escape(c.y_label) + "</text>\n";
  // Series, then the labels placed around every marker without overlaps.
  std::vector<LabelRequest> requests;
  std::vector<bool> request_muted;
  std::vector<Box> markers;
  for (const auto& s : c.series) {
    std::string color = s.muted ? "#aaaaaa" : s.color;
    if (s.line && s.points.size() > 1) {
      std::string pts;
      for (const auto& p : s.points) pts += (pts.empty() ? "" : " ") + num(x.map(p.x)) + "," + num(y.map(p.y));
      o += "<polyline points=\"" + pts + "\" fill=\"none\" stroke=\"" + color + "\" stroke-width=\"2\"" +
           (s.dashed ? " stroke-dasharray=\"5,4\"" : "") + "/>\n";
    }
    for (const auto& p : s.points) {
      double px = x.map(p.x), py = y.map(p.y);
      if (p.y_low && p.y_high) {
        o += "<line class=\"errorbar\" x1=\"" + num(px) + "\" y1=\"" + num(y.map(*p.y_low)) + "\" x2=\"" + num(px) +
             "\" y2=\"" + num(y.map(*p.y_high)) + "\" stroke=\"" + color + "\"/>\n";
        for (double v : {*p.y_low, *p.y_high})
          o += "<line x1=\"" + num(px - 4) + "\" y1=\"" + num(y.map(v)) + "\" x2=\"" + num(px + 4) + "\" y2=\"" +
               num(y.map(v)) + "\" stroke=\"" + color + "\"/>\n";
      }
      if (p.x_low && p.x_high)
        o += "<line class=\"errorbar\" x1=\"" + num(x.map(*p.x_low)) + "\" y1=\"" + num(py) + "\" x2=\"" +
             num(x.map(*p.x_high)) + "\" y2=\"" + num(py) + "\" stroke=\"" + color + "\"/>\n";
      if (s.markers) {
        o += "<circle cx=\"" + num(px) + "\" cy=\"" + num(py) + "\" r=\"5\" fill=\"" + color +
             "\" stroke=\"#ffffff\"/>\n";
        markers.push_back({px - 6, py - 6, 12, 12});
      }
      if (!p.label.empty()) {
        requests.push_back({px, py, p.label});
        request_muted.push_back(s.muted);
      }
    }
  }
  Box area{x.p0 + 1, y.p1 + 1, x.p1 - x.p0 - 2, y.p0 - y.p1 - 2};
  auto placed = place_labels(requests, area, markers, kChartFontText);
  for (size_t i = 0; i < placed.size(); ++i) {
    const auto& pl = placed[i];
    const auto& rq = requests[i];
    if (pl.leader) {
      // From the marker's edge to the nearest point of the label box.
      double tx = std::clamp(rq.px, pl.box.x, pl.box.x + pl.box.w);
      double ty = std::clamp(rq.py, pl.box.y, pl.box.y + pl.box.h);
      o += "<line class=\"leader\" x1=\"" + num(rq.px) + "\" y1=\"" + num(rq.py) + "\" x2=\"" + num(tx) +
           "\" y2=\"" + num(ty) + "\" stroke=\"#555555\" stroke-width=\"1\"/>\n";
    }
    o += "<text class=\"point-label\" x=\"" + num(pl.x) + "\" y=\"" + num(pl.y) + "\" font-size=\"" +
         num(kChartFontText) + "\" fill=\"" + (request_muted[i] ? std::string("#777777") : std::string("#222222")) +
         "\">" + xml_escape(rq.text) + "</text>\n";
  }
  // Legend: one row above the plot, under the note, so it never covers a point.
  double lx = x.p0, ly = top + 56;
  for (const auto& s : c.series) {
    if (s.name.empty()) continue;
    std::string color = s.muted ? "#aaaaaa" : s.color;
    o += "<line x1=\"" + num(lx) + "\" y1=\"" + num(ly - 4) + "\" x2=\"" + num(lx + 16) + "\" y2=\"" + num(ly - 4) +
         "\" stroke=\"" + color + "\" stroke-width=\"3\"" + (s.dashed ? " stroke-dasharray=\"3,2\"" : "") + "/>\n";
    o += "<text class=\"legend\" x=\"" + num(lx + 20) + "\" y=\"" + num(ly) + "\" font-size=\"12\">" +
         xml_escape(s.name) + "</text>\n";
    lx += 20 + text_box(s.name, 12).w + 14;
  }
  o += "</g>\n";
  return o;
}

std::string svg_document(double width, double height, const std::string& body, const std::string& title) {
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(width) + "\" height=\"" + num(height) +
         "\" viewBox=\"0 0 " + num(width) + " " + num(height) +
         "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n<title>" + xml_escape(title) + "</title>\n" +
         body + "</svg>\n";
}

}  // namespace hb::reports
