#include "reports/stats/distributions.h"

#include <algorithm>
#include <cmath>

namespace hb::reports::stats {
namespace {
double log_binom_pmf(int64_t k, int64_t n, double p) {
  if (p <= 0) return k == 0 ? 0.0 : -INFINITY;
  if (p >= 1) return k == n ? 0.0 : -INFINITY;
  return std::lgamma(static_cast<double>(n) + 1) - std::lgamma(static_cast<double>(k) + 1) -
         std::lgamma(static_cast<double>(n - k) + 1) + static_cast<double>(k) * std::log(p) +
         static_cast<double>(n - k) * std::log1p(-p);
}
}  // namespace

double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

double normal_quantile(double p) {
  if (p <= 0) return -INFINITY;
  if (p >= 1) return INFINITY;
  double lo = -40, hi = 40;
  for (int i = 0; i < 200 && hi - lo > 1e-12; ++i) {
    double mid = 0.5 * (lo + hi);
    if (normal_cdf(mid) < p)
      lo = mid;
    else
      hi = mid;
  }
  return 0.5 * (lo + hi);
}

double z_for_confidence(double confidence) { return normal_quantile(1 - (1 - confidence) / 2); }

double binomial_cdf(int64_t k, int64_t n, double p) {
  if (k < 0) return 0;
  if (k >= n) return 1;
  double s = 0;
  for (int64_t i = 0; i <= k; ++i) s += std::exp(log_binom_pmf(i, n, p));
  return std::min(1.0, s);
}

double binomial_sf(int64_t k, int64_t n, double p) {
  if (k <= 0) return 1;
  if (k > n) return 0;
  double s = 0;
  for (int64_t i = k; i <= n; ++i) s += std::exp(log_binom_pmf(i, n, p));
  return std::min(1.0, s);
}

double chi2_1_sf(double x) { return x <= 0 ? 1.0 : std::erfc(std::sqrt(x / 2.0)); }

}  // namespace hb::reports::stats
