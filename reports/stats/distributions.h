#pragma once
// Normal and binomial helpers used by the tests and intervals.
#include <cstdint>

namespace hb::reports::stats {

double normal_cdf(double z);
// Inverse of normal_cdf for p in (0, 1) (bisection to 1e-12; deterministic).
double normal_quantile(double p);
// Two-sided z critical value for a confidence level: 0.95 -> 1.959964.
double z_for_confidence(double confidence);
// P(X <= k) and P(X >= k) for X ~ Binomial(n, p), summed in log space.
double binomial_cdf(int64_t k, int64_t n, double p);
double binomial_sf(int64_t k, int64_t n, double p);
// Upper tail of the chi-square distribution with 1 degree of freedom.
double chi2_1_sf(double x);

}  // namespace hb::reports::stats
