#pragma once
// A small, deterministic SVG chart renderer: one panel with axes, ticks, series (markers, lines, error
// bars, labels) and a legend. Every coordinate is printed with fixed precision so the output is
// byte-stable. Used by the Pareto plot, throughput curves, latency percentiles and history trends.
#include <optional>
#include <utility>
#include <string>
#include <vector>

namespace hb::reports {

struct ChartPoint {
  double x = 0, y = 0;
  std::optional<double> y_low, y_high;  // vertical error bar
  std::optional<double> x_low, x_high;  // horizontal error bar
  std::string label;                    // drawn next to the marker when not empty
};

struct ChartSeries {
  std::string name;  // legend entry ("" = not in the legend)
  std::string color = "#1f77b4";
  bool markers = true;
  bool line = false;  // connect the points in the given order
  bool dashed = false;
  bool muted = false;  // drawn light (dominated points)
  std::vector<ChartPoint> points;
};

struct Chart {
  std::string title;
  std::string x_label, y_label;
  bool log_x = false;
  double width = 520, height = 360;
  std::vector<ChartSeries> series;
  std::optional<double> y_min, y_max, x_min, x_max;  // forced axis ends
  std::optional<double> y_floor, y_ceil;             // the automatic y range never goes past these (0, 100)
  std::vector<std::pair<double, std::string>> x_ticks;  // explicit x ticks (position, label; "\n" = 2 lines)
  std::string note;                                  // small text under the title
};

// Font sizes (px at 1:1 scale; the page shows charts unscaled at 1400 px wide, so nothing is below 11 px).
inline constexpr double kChartFontTitle = 15, kChartFontText = 12, kChartFontAxis = 13;

// One <g> element drawing the chart with its top-left corner at (left, top).
std::string render_chart(const Chart& chart, double left = 0, double top = 0);
// A standalone SVG document holding the given body.
std::string svg_document(double width, double height, const std::string& body, const std::string& title);
// Colour i of a fixed palette.
const char* palette(size_t i);

}  // namespace hb::reports
