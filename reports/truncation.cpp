#include "reports/truncation.h"

namespace hb::reports {

std::optional<double> truncation_rate(const ModelData& model, const std::string& suite_label) {
  auto suite = model.metric_items.find(suite_label);
  if (suite == model.metric_items.end()) return std::nullopt;
  auto metric = suite->second.find("truncated");
  if (metric == suite->second.end()) return std::nullopt;
  double cut = 0;
  size_t n = 0;
  for (const auto& [item, values] : metric->second)
    for (double v : values) {
      cut += v;
      ++n;
    }
  if (n == 0) return std::nullopt;
  return cut / static_cast<double>(n);
}

}  // namespace hb::reports
