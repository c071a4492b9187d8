#include "reports/stats/paired.h"

#include <algorithm>
#include <cmath>

#include "harness/base/error.h"
#include "reports/stats/distributions.h"
#include "reports/stats/rng.h"

namespace hb::reports::stats {
namespace {

// Linear-interpolated quantile of sorted values.
double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  double pos = q * static_cast<double>(sorted.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(pos));
  size_t hi = std::min(sorted.size() - 1, lo + 1);
  double f = pos - static_cast<double>(lo);
  return sorted[lo] * (1 - f) + sorted[hi] * f;
}

struct Replicates {
  double delta = 0;
  std::vector<double> sorted;  // replicate deltas, ascending
};

Replicates replicate(const std::vector<double>& a, const std::vector<double>& b, int iterations, uint64_t seed) {
  if (a.size() != b.size())
    throw Error(ErrorCode::internal, "paired test got " + std::to_string(a.size()) + " and " +
                                         std::to_string(b.size()) + " items; pair the items first");
  Replicates r;
  const size_t n = a.size();
  if (n == 0) return r;
  std::vector<double> d(n);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    d[i] = b[i] - a[i];
    sum += d[i];
  }
  r.delta = sum / static_cast<double>(n);
  Rng rng(seed);
  r.sorted.resize(static_cast<size_t>(std::max(1, iterations)));
  for (auto& out : r.sorted) {
    double s = 0;
    for (size_t i = 0; i < n; ++i) s += d[rng.index(n)];
    out = s / static_cast<double>(n);
  }
  std::sort(r.sorted.begin(), r.sorted.end());
  return r;
}

// (1 + #{x in sorted : pred}) / (1 + size)
template <typename Pred>
double tail(const std::vector<double>& sorted, Pred pred) {
  size_t k = 0;
  for (double x : sorted) k += pred(x) ? 1 : 0;
  return (1.0 + static_cast<double>(k)) / (1.0 + static_cast<double>(sorted.size()));
}

}  // namespace

bool is_binary(const std::vector<double>& xs) {
  for (double x : xs)
    if (x != 0.0 && x != 1.0) return false;
  return true;
}

BootstrapResult paired_bootstrap(const std::vector<double>& a, const std::vector<double>& b, int iterations,
                                 uint64_t seed, double confidence) {
  BootstrapResult out;
  out.n = static_cast<int64_t>(a.size());
  auto r = replicate(a, b, iterations, seed);
  out.delta = r.delta;
  if (a.empty()) return out;
  double alpha = 1 - confidence;
  out.ci = {quantile(r.sorted, alpha / 2), quantile(r.sorted, 1 - alpha / 2)};
  out.lower_one_sided = quantile(r.sorted, alpha);
  double mean = 0;
  for (double x : r.sorted) mean += x;
  mean /= static_cast<double>(r.sorted.size());
  double ss = 0;
  for (double x : r.sorted) ss += (x - mean) * (x - mean);
  out.se = r.sorted.size() > 1 ? std::sqrt(ss / static_cast<double>(r.sorted.size() - 1)) : 0;
  const double delta = r.delta;
  if (std::all_of(r.sorted.begin(), r.sorted.end(), [&](double x) { return x == delta; })) {
    // No variation at all (identical differences): nothing to test.
    out.p_two_sided = delta == 0 ? 1.0 : 0.0;
    out.p_worse = delta < 0 ? 0.0 : 1.0;
    return out;
  }
  // Under H0 the replicates are centred at 0: shift them by -delta.
  out.p_two_sided = std::min(1.0, tail(r.sorted, [&](double x) { return std::fabs(x - delta) >= std::fabs(delta); }));
  out.p_worse = std::min(1.0, tail(r.sorted, [&](double x) { return x - delta <= delta; }));
  return out;
}

McNemarResult mcnemar(int64_t a_only, int64_t b_only) {
  McNemarResult m;
  m.a_only = a_only;
  m.b_only = b_only;
  int64_t n = a_only + b_only;
  if (n == 0) return m;
  if (n < 25) {
    m.exact = true;
    int64_t k = std::min(a_only, b_only);
    m.p_two_sided = std::min(1.0, 2 * binomial_cdf(k, n, 0.5));
    m.p_worse = binomial_sf(a_only, n, 0.5);
  } else {
    double diff = std::fabs(static_cast<double>(a_only - b_only)) - 1;
    m.statistic = std::max(0.0, diff) * std::max(0.0, diff) / static_cast<double>(n);
    m.p_two_sided = chi2_1_sf(m.statistic);
    // One-sided normal approximation with continuity correction.
    double z = (static_cast<double>(a_only - b_only) - 1) / std::sqrt(static_cast<double>(n));
    m.p_worse = 1 - normal_cdf(z);
  }
  return m;
}

McNemarResult mcnemar(const std::vector<double>& a, const std::vector<double>& b) {
  int64_t a_only = 0, b_only = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    if (a[i] > 0.5 && b[i] < 0.5) ++a_only;
    if (a[i] < 0.5 && b[i] > 0.5) ++b_only;
  }
  return mcnemar(a_only, b_only);
}

Interval newcombe_paired(const std::vector<double>& a, const std::vector<double>& b, double confidence) {
  const size_t n = std::min(a.size(), b.size());
  if (n == 0) return {-1, 1};
  double both = 0, a_only = 0, b_only = 0, neither = 0;
  for (size_t i = 0; i < n; ++i) {
    bool x = a[i] > 0.5, y = b[i] > 0.5;
    (x && y ? both : x ? a_only : y ? b_only : neither) += 1;
  }
  const double nn = static_cast<double>(n);
  const double pa = (both + a_only) / nn, pb = (both + b_only) / nn;
  Interval wa = wilson(static_cast<int64_t>(both + a_only), static_cast<int64_t>(n), confidence);
  Interval wb = wilson(static_cast<int64_t>(both + b_only), static_cast<int64_t>(n), confidence);
  // Correlation of the pairs from the 2x2 table (0 when a margin is empty).
  double marg = (both + a_only) * (neither + b_only) * (both + b_only) * (neither + a_only);
  double phi = marg > 0 ? (both * neither - a_only * b_only) / std::sqrt(marg) : 0;
  const double d = pb - pa;
  double lo2 = (pb - wb.low) * (pb - wb.low) - 2 * phi * (pb - wb.low) * (wa.high - pa) + (wa.high - pa) * (wa.high - pa);
  double hi2 = (wb.high - pb) * (wb.high - pb) - 2 * phi * (wb.high - pb) * (pa - wa.low) + (pa - wa.low) * (pa - wa.low);
  return {std::max(-1.0, d - std::sqrt(std::max(0.0, lo2))), std::min(1.0, d + std::sqrt(std::max(0.0, hi2)))};
}

NonInferiorityResult non_inferiority(const std::vector<double>& a, const std::vector<double>& b, double margin,
                                     double alpha, int iterations, uint64_t seed) {
  NonInferiorityResult out;
  out.margin = margin;
  out.method = "paired bootstrap";
  out.n = static_cast<int64_t>(a.size());
  if (a.empty()) return out;
  auto r = replicate(a, b, iterations, seed);
  out.delta = r.delta;
  out.lower = quantile(r.sorted, alpha);
  out.passed = out.lower > -margin;
  // H0: delta <= -margin. Replicates shifted to be centred at -margin; p = P(shifted >= observed delta).
  const double delta = r.delta;
  out.p = std::min(1.0, tail(r.sorted, [&](double x) { return x - delta - margin >= delta; }));
  if (std::all_of(r.sorted.begin(), r.sorted.end(), [&](double x) { return x == delta; }))
    out.p = delta > -margin ? 0.0 : 1.0;
  return out;
}

}  // namespace hb::reports::stats
