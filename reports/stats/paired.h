#pragma once
// Paired comparisons of a candidate B against a baseline A on the same items: per-item differences
// d_i = b_i - a_i, the seeded paired bootstrap, McNemar's test for single binary samples, and the
// non-inferiority test used by gates and nightly comparisons.
#include <cstdint>
#include <string>
#include <vector>

#include "reports/stats/intervals.h"

namespace hb::reports::stats {

inline constexpr uint64_t kDefaultSeed = 20240917;
inline constexpr int kDefaultIterations = 10000;

struct BootstrapResult {
  int64_t n = 0;
  double delta = 0;            // mean(b - a)
  double se = 0;               // sd of the replicates
  Interval ci;                 // percentile interval at the confidence asked
  double lower_one_sided = 0;  // (alpha)-quantile: the one-sided lower bound at confidence 1 - alpha
  double p_two_sided = 1;      // shifted-null bootstrap p for delta != 0
  double p_worse = 1;          // one-sided p for H1: delta < 0 (B worse)
};

// Resamples item indices with replacement (the same indices for both) `iterations` times. a and b must
// have the same length (items in the same order).
BootstrapResult paired_bootstrap(const std::vector<double>& a, const std::vector<double>& b,
                                 int iterations = kDefaultIterations, uint64_t seed = kDefaultSeed,
                                 double confidence = 0.95);

struct McNemarResult {
  int64_t a_only = 0;    // b: A right, B wrong
  int64_t b_only = 0;    // c: A wrong, B right
  double statistic = 0;  // chi-square with continuity correction (0 when exact)
  double p_two_sided = 1;
  double p_worse = 1;  // one-sided: B worse than A
  bool exact = false;  // exact binomial on the discordant pairs (used when b + c < 25)
};

McNemarResult mcnemar(int64_t a_only, int64_t b_only);
// Counts the discordant pairs of two 0/1 vectors and runs mcnemar().
McNemarResult mcnemar(const std::vector<double>& a, const std::vector<double>& b);

struct NonInferiorityResult {
  int64_t n = 0;
  double delta = 0;   // mean(b - a)
  double lower = 0;   // one-sided lower confidence bound of delta at 1 - alpha
  double margin = 0;  // B is non-inferior when lower > -margin
  double p = 1;       // p-value of H0: delta <= -margin
  bool passed = false;
  std::string method;  // "paired bootstrap" (the only one for now; deterministic given the seed)
};

NonInferiorityResult non_inferiority(const std::vector<double>& a, const std::vector<double>& b, double margin,
                                     double alpha = 0.05, int iterations = kDefaultIterations,
                                     uint64_t seed = kDefaultSeed);

// Newcombe's hybrid score interval (his method 10) for the paired difference mean(b) - mean(a) of two 0/1
// vectors on the same items: Wilson intervals of both proportions combined with the correlation of the pairs.
// Stays inside [-1, 1] and keeps its coverage on small n, where the bootstrap percentile interval is too
// narrow (4 items that all agree give the bootstrap a zero-width interval).
Interval newcombe_paired(const std::vector<double>& a, const std::vector<double>& b, double confidence = 0.95);

// True when every value is 0 or 1.
bool is_binary(const std::vector<double>& xs);

}  // namespace hb::reports::stats
