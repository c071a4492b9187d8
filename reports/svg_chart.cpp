#include "reports/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "reports/format.h"

namespace hb::reports {
namespace {

constexpr double kMarginLeft = 62, kMarginRight = 16, kMarginTop = 44, kMarginBottom = 46;

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
  }
  x.p0 = left + kMarginLeft;
  x.p1 = left + c.width - kMarginRight;
  y.p0 = top + c.height - kMarginBottom;
  y.p1 = top + kMarginTop;

  std::string o = "<g class=\"chart\">\n";
  o += "<rect x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" + num(c.width) + "\" height=\"" + num(c.height) +
       "\" fill=\"#ffffff\" stroke=\"#dddddd\"/>\n";
  o += "<text x=\"" + num(left + c.width / 2) + "\" y=\"" + num(top + 18) +
       "\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">" + xml_escape(c.title) + "</text>\n";
  if (!c.note.empty())
    o += "<text x=\"" + num(left + c.width / 2) + "\" y=\"" + num(top + 33) +
         "\" text-anchor=\"middle\" font-size=\"10\" fill=\"#555555\">" + xml_escape(c.note) + "</text>\n";
  // Grid and ticks.
  std::vector<double> xt;
  double xstep = 1;
  if (x.log) {
    xt = log_ticks(x.lo, x.hi);
    xstep = 0.1;
  } else {
    xstep = nice_step(x.hi - x.lo, 6);
    xt = linear_ticks(x.lo, x.hi, xstep);
  }
  for (double v : xt) {
    double px = x.map(v);
    o += "<line x1=\"" + num(px) + "\" y1=\"" + num(y.p0) + "\" x2=\"" + num(px) + "\" y2=\"" + num(y.p1) +
         "\" stroke=\"#eeeeee\"/>\n";
    o += "<text x=\"" + num(px) + "\" y=\"" + num(y.p0 + 14) + "\" text-anchor=\"middle\" font-size=\"10\">" +
         (x.log ? (v < 1 ? fixed(v, 1) : fixed(v, 0)) + "x" : tick_label(v, xstep)) + "</text>\n";
  }
  double ystep = nice_step(y.hi - y.lo, 5);
  for (double v : linear_ticks(y.lo, y.hi, ystep)) {
    double py = y.map(v);
    o += "<line x1=\"" + num(x.p0) + "\" y1=\"" + num(py) + "\" x2=\"" + num(x.p1) + "\" y2=\"" + num(py) +
         "\" stroke=\"#eeeeee\"/>\n";
    o += "<text x=\"" + num(x.p0 - 5) + "\" y=\"" + num(py + 3) + "\" text-anchor=\"end\" font-size=\"10\">" +
         tick_label(v, ystep) + "</text>\n";
  }
  o += "<rect x=\"" + num(x.p0) + "\" y=\"" + num(y.p1) + "\" width=\"" + num(x.p1 - x.p0) + "\" height=\"" +
       num(y.p0 - y.p1) + "\" fill=\"none\" stroke=\"#333333\"/>\n";
  o += "<text x=\"" + num((x.p0 + x.p1) / 2) + "\" y=\"" + num(top + c.height - 10) +
       "\" text-anchor=\"middle\" font-size=\"11\">" + xml_escape(c.x_label) + (x.log ? " (log scale)" : "") +
       "</text>\n";
  o += "<text x=\"" + num(left + 14) + "\" y=\"" + num((y.p0 + y.p1) / 2) +
       "\" text-anchor=\"middle\" font-size=\"11\" transform=\"rotate(-90 " + num(left + 14) + " " +
       num((y.p0 + y.p1) / 2) + ")\">" + xml_escape(c.y_label) + "</text>\n";
  // Series.
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
      if (s.markers)
        o += "<circle cx=\"" + num(px) + "\" cy=\"" + num(py) + "\" r=\"4.5\" fill=\"" + color +
             "\" stroke=\"#ffffff\"/>\n";
      // Labels near the right edge go to the left of their marker so they stay inside the panel.
      bool left_side = px > x.p1 - 6.0 * static_cast<double>(p.label.size()) - 10;
      if (!p.label.empty())
        o += "<text x=\"" + num(left_side ? px - 7 : px + 7) + "\" y=\"" + num(py - 7) + "\"" +
             (left_side ? " text-anchor=\"end\"" : "") + " font-size=\"10\" fill=\"" +
             (s.muted ? std::string("#888888") : std::string("#222222")) + "\">" + xml_escape(p.label) + "</text>\n";
    }
  }
  // Legend (top-left inside the plot).
  double ly = y.p1 + 12;
  for (const auto& s : c.series) {
    if (s.name.empty()) continue;
    std::string color = s.muted ? "#aaaaaa" : s.color;
    o += "<line x1=\"" + num(x.p0 + 8) + "\" y1=\"" + num(ly - 3) + "\" x2=\"" + num(x.p0 + 22) + "\" y2=\"" +
         num(ly - 3) + "\" stroke=\"" + color + "\" stroke-width=\"3\"" +
         (s.dashed ? " stroke-dasharray=\"3,2\"" : "") + "/>\n";
    o +=
        "<text x=\"" + num(x.p0 + 26) + "\" y=\"" + num(ly) + "\" font-size=\"10\">" + xml_escape(s.name) + "</text>\n";
    ly += 13;
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
