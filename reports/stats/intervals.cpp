#include "reports/stats/intervals.h"

#include <algorithm>
#include <cmath>

#include "reports/stats/distributions.h"

namespace hb::reports::stats {

Interval wilson(int64_t successes, int64_t n, double confidence) {
  if (n <= 0) return {0, 1};
  double z = z_for_confidence(confidence);
  double nn = static_cast<double>(n);
  double p = static_cast<double>(successes) / nn;
  double denom = 1 + z * z / nn;
  double centre = (p + z * z / (2 * nn)) / denom;
  double half = z * std::sqrt(p * (1 - p) / nn + z * z / (4 * nn * nn)) / denom;
  return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

Estimate mean_se(const std::vector<double>& xs) {
  Estimate e;
  e.n = static_cast<int64_t>(xs.size());
  if (xs.empty()) return e;
  double sum = 0;
  for (double x : xs) sum += x;
  e.mean = sum / static_cast<double>(xs.size());
  if (xs.size() < 2) return e;
  double ss = 0;
  for (double x : xs) ss += (x - e.mean) * (x - e.mean);
  e.se = std::sqrt(ss / static_cast<double>(xs.size() - 1) / static_cast<double>(xs.size()));
  return e;
}

Interval clt_interval(const Estimate& e, double confidence) {
  double z = z_for_confidence(confidence);
  return {e.mean - z * e.se, e.mean + z * e.se};
}

Interval score_interval(double mean, double se, int64_t n, double confidence, double lo, double hi) {
  if (n <= 0) return {lo, hi};
  if (lo == 0 && hi == 1 && mean >= 0 && mean <= 1) {
    double n_eff = se > 0 ? mean * (1 - mean) / (se * se) : static_cast<double>(n);
    if (!(n_eff > 0)) n_eff = static_cast<double>(n);  // mean 0 or 1 with a positive se cannot happen; be safe
    double z = z_for_confidence(confidence);
    double denom = 1 + z * z / n_eff;
    double centre = (mean + z * z / (2 * n_eff)) / denom;
    double half = z * std::sqrt(mean * (1 - mean) / n_eff + z * z / (4 * n_eff * n_eff)) / denom;
    return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
  }
  double z = z_for_confidence(confidence);
  return {std::max(lo, mean - z * se), std::min(hi, mean + z * se)};
}

Estimate over_items(const std::vector<std::vector<double>>& samples_per_item) {
  std::vector<double> means;
  for (const auto& item : samples_per_item) {
    if (item.empty()) continue;
    double s = 0;
    for (double x : item) s += x;
    means.push_back(s / static_cast<double>(item.size()));
  }
  return mean_se(means);
}

Estimate clustered(const std::vector<std::vector<double>>& clusters) {
  Estimate e;
  double total = 0, count = 0;
  int64_t g = 0;
  for (const auto& c : clusters) {
    if (c.empty()) continue;
    ++g;
    for (double x : c) total += x;
    count += static_cast<double>(c.size());
  }
  e.n = g;
  if (count == 0) return e;
  e.mean = total / count;
  if (g < 2) return e;
  double v = 0;
  for (const auto& c : clusters) {
    double r = 0;
    for (double x : c) r += x - e.mean;
    v += r * r;
  }
  double gg = static_cast<double>(g);
  e.se = std::sqrt(gg / (gg - 1) * v) / count;
  return e;
}

}  // namespace hb::reports::stats
