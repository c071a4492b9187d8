#pragma once
// Point estimates with standard errors and confidence intervals for accuracy-like metrics.
#include <cstdint>
#include <vector>

namespace hb::reports::stats {

struct Interval {
  double low = 0, high = 0;
};

struct Estimate {
  double mean = 0;
  double se = 0;  // standard error of the mean
  int64_t n = 0;  // independent units (items; problems for multi-sample suites)
};

// Wilson score interval for a binomial proportion (good near 0 and 1 and for small n).
Interval wilson(int64_t successes, int64_t n, double confidence = 0.95);
// Mean and CLT standard error (sample sd with Bessel's correction / sqrt(n)); n < 2 gives se 0.
Estimate mean_se(const std::vector<double>& xs);
// mean +- z * se.
Interval clt_interval(const Estimate& e, double confidence = 0.95);
// The interval shown for a score in [0, 1] (accuracy, pass rate, avg@k): Wilson's score interval with the
// effective sample size n_eff = mean (1 - mean) / se^2 (= n - 1 for single binary samples with Bessel's se;
// smaller for clustered or multi-sample means), n when se is 0. It never leaves [0, 1], unlike mean +- 1.96 se
// (which gave 25.0 +- 49.0 on 4 items). Scores outside [0, 1] (ratings) get the CLT interval clamped to
// [lo, hi].
Interval score_interval(double mean, double se, int64_t n, double confidence = 0.95, double lo = 0, double hi = 1);
// Multi-sample suites (avg@k): each item's samples are averaged first and the standard error is taken over
// items, so n counts problems, not samples (the between-item variance dominates with few problems).
Estimate over_items(const std::vector<std::vector<double>>& samples_per_item);
// Cluster-robust standard error of the pooled sample mean (clusters of unequal size; CR1 small-sample
// factor G/(G-1)). For equal cluster sizes its mean equals over_items' mean.
Estimate clustered(const std::vector<std::vector<double>>& clusters);

}  // namespace hb::reports::stats
