#include "reports/importance_chart.h"

#include <algorithm>
#include <cmath>

#include "reports/format.h"

namespace hb::reports {
namespace {

std::string metric_label(const ImportanceSweep& sw) {
  if (sw.metric == "kl") return "mean KL(full || dropped), nats";
  return "score drop (full - dropped)";
}

std::string ints(const std::vector<int>& xs) {
  std::string s;
  for (int x : xs) s += (s.empty() ? "" : ", ") + std::to_string(x);
  return s.empty() ? "none" : s;
}

bool is_mamba(const ImportanceSweep& sw, const LayerImportance& l) {
  return l.layer < int(sw.layout.size()) ? sw.layout[size_t(l.layer)] == 'M' : l.kind == "m2";
}

}  // namespace

std::string render_importance_svg(const ImportanceSweep& sw) {
  const double left = 64, right = 16, top = 28, bottom = 58, plot_h = 220;
  const int n = std::max(1, sw.num_layers);
  const double slot = std::max(8.0, std::min(28.0, 900.0 / n));
  const double plot_w = slot * n, width = left + plot_w + right, height = top + plot_h + bottom;
  // y range over values and interval ends, always including 0.
  double lo = 0, hi = 0;
  for (const auto& l : sw.layers) {
    for (const auto& v : {l.value, l.ci_low, l.ci_high}) {
      if (v && std::isfinite(*v)) {
        lo = std::min(lo, *v);
        hi = std::max(hi, *v);
      }
    }
  }
  if (hi - lo <= 0) hi = lo + 1;
  const double pad = 0.05 * (hi - lo);
  hi += pad;
  if (lo < 0) lo -= pad;
  auto y = [&](double v) { return top + plot_h * (hi - v) / (hi - lo); };
  auto x = [&](int layer) { return left + slot * (layer + 0.5); };
  const auto next = next_conversions(sw, sw.layout, sw.convert);
  std::string o = "<svg class=\"importance\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fixed(width, 0) +
                  "\" height=\"" + fixed(height, 0) + "\" viewBox=\"0 0 " + fixed(width, 0) + " " + fixed(height, 0) +
                  "\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"11\">\n";
  o += "<title>" + xml_escape(sw.model + ": layer importance (" + sw.metric + ", " + sw.mode + ")") + "</title>\n";
  // Axes, zero line and y ticks.
  o += "<line x1=\"" + fixed(left, 1) + "\" y1=\"" + fixed(top, 1) + "\" x2=\"" + fixed(left, 1) + "\" y2=\"" +
       fixed(top + plot_h, 1) + "\" stroke=\"#333\"/>\n";
  // Enough decimals that the four tick steps print distinct values.
  const int digits = std::max(1, std::min(8, int(std::ceil(-std::log10((hi - lo) / 4.0))) + 1));
  for (int i = 0; i <= 4; ++i) {
    const double v = lo + (hi - lo) * i / 4.0;
    o += "<text x=\"" + fixed(left - 4, 1) + "\" y=\"" + fixed(y(v) + 4, 1) + "\" text-anchor=\"end\">" +
         fixed(v, digits) + "</text>\n";
    o += "<line x1=\"" + fixed(left, 1) + "\" y1=\"" + fixed(y(v), 1) + "\" x2=\"" + fixed(left + plot_w, 1) + "\" y2=\"" +
         fixed(y(v), 1) + "\" stroke=\"#eee\"/>\n";
  }
  o += "<line x1=\"" + fixed(left, 1) + "\" y1=\"" + fixed(y(0), 1) + "\" x2=\"" + fixed(left + plot_w, 1) + "\" y2=\"" +
       fixed(y(0), 1) + "\" stroke=\"#333\"/>\n";
  for (const auto& l : sw.layers) {
    const bool mamba = is_mamba(sw, l);
    const bool proposed = std::find(next.begin(), next.end(), l.layer) != next.end();
    const std::string fill = proposed ? "#e67e22" : mamba ? "#2a9d8f" : "#4c72b0";
    if (l.value && std::isfinite(*l.value)) {
      const double y0 = y(0), y1 = y(*l.value);
      o += "<rect class=\"" + std::string(mamba ? "bar mamba" : "bar attention") + (proposed ? " proposed" : "") +
           "\" data-layer=\"" + std::to_string(l.layer) + "\" x=\"" + fixed(x(l.layer) - slot * 0.35, 1) + "\" y=\"" +
           fixed(std::min(y0, y1), 1) + "\" width=\"" + fixed(slot * 0.7, 1) + "\" height=\"" +
           fixed(std::fabs(y0 - y1), 1) + "\" fill=\"" + fill + "\"><title>layer " + std::to_string(l.layer) + " (" +
           (mamba ? "Mamba" : "attention") + "): " + fixed(*l.value, 5) +
           (l.ci_low && l.ci_high ? " [" + fixed(*l.ci_low, 5) + ", " + fixed(*l.ci_high, 5) + "]" : "") +
           "</title></rect>\n";
    }
    if (l.ci_low && l.ci_high && std::isfinite(*l.ci_low) && std::isfinite(*l.ci_high)) {
      o += "<line class=\"ci\" x1=\"" + fixed(x(l.layer), 1) + "\" y1=\"" + fixed(y(*l.ci_low), 1) + "\" x2=\"" +
           fixed(x(l.layer), 1) + "\" y2=\"" + fixed(y(*l.ci_high), 1) + "\" stroke=\"#222\"/>\n";
    }
    if (mamba) {  // the marker under the axis: this layer is Mamba already
      o += "<text class=\"mamba-mark\" x=\"" + fixed(x(l.layer), 1) + "\" y=\"" + fixed(top + plot_h + 26, 1) +
           "\" text-anchor=\"middle\" fill=\"#2a9d8f\">M</text>\n";
    }
  }
  // Layer labels (every k-th when crowded).
  const int every = slot >= 16 ? 1 : slot >= 10 ? 2 : 5;
  for (int i = 0; i < n; i += every)
    o += "<text x=\"" + fixed(x(i), 1) + "\" y=\"" + fixed(top + plot_h + 13, 1) + "\" text-anchor=\"middle\">" +
         std::to_string(i) + "</text>\n";
  o += "<text x=\"" + fixed(left + plot_w / 2, 1) + "\" y=\"" + fixed(height - 6, 1) +
       "\" text-anchor=\"middle\">layer (M: Mamba now; orange: convert next)</text>\n";
  o += "<text x=\"" + fixed(left, 1) + "\" y=\"16\">" + xml_escape(metric_label(sw)) + ", 95% interval</text>\n";
  o += "</svg>\n";
  return o;
}

std::string render_importance_section(const std::vector<ImportanceSweep>& sweeps) {
  if (sweeps.empty()) return "";
  std::string o = "<h2>Layer importance</h2>\n<p class=\"muted\">Leave-one-out sweeps (hybench importance): each bar is "
                  "what removing that one layer costs (the full model's next-token distribution against the dropped "
                  "model's, or the suites' score drop with a paired bootstrap interval). Low bars are the cheapest "
                  "layers to convert.</p>\n";
  for (const auto& sw : sweeps) {
    const auto next = next_conversions(sw, sw.layout, sw.convert);
    const auto ranked = rank_layers(sw);
    std::vector<int> top(ranked.begin(), ranked.begin() + std::min<long>(5, long(ranked.size())));
    o += "<h3>" + xml_escape(sw.model) + " &middot; " + xml_escape(sw.metric) + " &middot; " + xml_escape(sw.mode) +
         " &middot; run " + xml_escape(sw.run) + "</h3>\n";
    o += "<p class=\"verdict\" id=\"importance-" + xml_escape(sw.run) + "-" + xml_escape(sw.metric) + "\">Convert next (" +
         std::to_string(next.size()) + " of " + std::to_string(sw.convert) +
         " asked, least important attention layers first): <b>" + ints(next) + "</b>. Most important: " + ints(top) +
         ".</p>\n";
    o += render_importance_svg(sw);
  }
  return o;
}

std::string add_importance_to_summary_json(const std::string& summary_json, const std::vector<ImportanceSweep>& sweeps) {
  if (sweeps.empty()) return summary_json;
  // ordered_json keeps the summary's own key order; the sweeps go last.
  auto j = nlohmann::ordered_json::parse(summary_json, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return summary_json;
  j["importance"] = nlohmann::ordered_json::parse(importance_json(sweeps).dump());
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace hb::reports
