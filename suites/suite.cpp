#include "suites/suite.h"

#include <cmath>
#include <map>

#include "harness/base/hash.h"

namespace hb::suites {

namespace {

// Per-item mean over samples first, then mean and standard error over items.
MetricValue mean_over_items(const std::vector<SampleScore>& samples, const std::string& key, const std::string& metric) {
  std::map<std::string, std::pair<double, int>> per_item;
  for (const auto& s : samples) {
    auto it = s.scores.find(key);
    if (it == s.scores.end()) continue;
    auto& acc = per_item[s.item_id];
    acc.first += it->second;
    acc.second += 1;
  }
  MetricValue m;
  m.metric = metric;
  m.n = per_item.size();
  if (m.n == 0) {
    m.value = std::nan("");
    return m;
  }
  double sum = 0, sum_sq = 0;
  for (const auto& [id, acc] : per_item) {
    double v = acc.first / acc.second;
    sum += v;
    sum_sq += v * v;
  }
  double n = static_cast<double>(m.n);
  m.value = sum / n;
  double var = m.n > 1 ? (sum_sq - n * m.value * m.value) / (n - 1) : 0.0;
  m.stderr_ = m.n > 1 ? std::sqrt(std::max(0.0, var) / n) : 0.0;
  return m;
}

}  // namespace

std::vector<MetricValue> Suite::aggregate(const std::vector<SampleScore>& samples) const {
  std::vector<MetricValue> out;
  for (const auto& metric : info().metrics) out.push_back(mean_over_items(samples, metric, metric));
  // The share of samples cut by the token limit: it explains score differences between models of
  // different verbosity (docs/SUITES.md, truncation rule). Shown only when the suite records it.
  MetricValue t = mean_over_items(samples, "truncated", "truncation_rate");
  if (t.n > 0) out.push_back(t);
  return out;
}

std::string Suite::prompt_hash() const {
  nlohmann::json fp = prompt_fingerprint();
  fp["__suite"] = info().name;
  fp["__variant"] = info().variant;
  return json_hash(fp);
}

}  // namespace hb::suites
