#include "reports/stats/mann_whitney.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "reports/stats/distributions.h"

namespace hb::reports::stats {
namespace {

// counts[u] = number of arrangements of m x's and n y's with U = u (U counts y's before each x).
std::vector<double> u_distribution(size_t m, size_t n) {
  // f[i][j] over u: recursive on the largest element being an x (adds j to U) or a y.
  std::vector<std::vector<std::vector<double>>> f(m + 1, std::vector<std::vector<double>>(n + 1));
  for (size_t i = 0; i <= m; ++i) {
    for (size_t j = 0; j <= n; ++j) {
      std::vector<double> dist(i * j + 1, 0.0);
      if (i == 0 || j == 0) {
        dist[0] = 1;
      } else {
        const auto& with_x = f[i - 1][j];  // largest is x: it beats all j y's
        for (size_t u = 0; u < with_x.size(); ++u) dist[u + j] += with_x[u];
        const auto& with_y = f[i][j - 1];
        for (size_t u = 0; u < with_y.size(); ++u) dist[u] += with_y[u];
      }
      f[i][j] = std::move(dist);
    }
  }
  return f[m][n];
}

}  // namespace

MannWhitneyResult mann_whitney(const std::vector<double>& x, const std::vector<double>& y) {
  MannWhitneyResult r;
  const size_t m = x.size(), n = y.size();
  if (m == 0 || n == 0) return r;
  bool ties = false;
  for (double a : x) {
    for (double b : y) {
      if (a > b)
        r.u += 1;
      else if (a == b) {
        r.u += 0.5;
        ties = true;
      }
    }
  }
  const double mn = static_cast<double>(m * n);
  if (!ties && m <= 25 && n <= 25) {
    r.exact = true;
    auto dist = u_distribution(m, n);
    double total = 0;
    for (double c : dist) total += c;
    auto u = static_cast<size_t>(r.u);
    double le = 0, ge = 0;
    for (size_t k = 0; k < dist.size(); ++k) {
      if (k <= u) le += dist[k];
      if (k >= u) ge += dist[k];
    }
    r.p_less = le / total;
    r.p_greater = ge / total;
    r.p_two_sided = std::min(1.0, 2 * std::min(r.p_less, r.p_greater));
    return r;
  }
  // Normal approximation with the tie-corrected variance.
  std::vector<double> all(x);
  all.insert(all.end(), y.begin(), y.end());
  std::sort(all.begin(), all.end());
  double tie_term = 0;
  for (size_t i = 0; i < all.size();) {
    size_t j = i;
    while (j < all.size() && all[j] == all[i]) ++j;
    double t = static_cast<double>(j - i);
    tie_term += t * t * t - t;
    i = j;
  }
  const double big_n = static_cast<double>(m + n);
  const double mean = mn / 2;
  const double var = mn / 12 * ((big_n + 1) - tie_term / (big_n * (big_n - 1)));
  if (var <= 0) return r;
  const double sd = std::sqrt(var);
  r.p_less = normal_cdf((r.u - mean + 0.5) / sd);
  r.p_greater = 1 - normal_cdf((r.u - mean - 0.5) / sd);
  r.p_two_sided = std::min(1.0, 2 * std::min(r.p_less, r.p_greater));
  return r;
}

}  // namespace hb::reports::stats
