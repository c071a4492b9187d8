#pragma once
// Mann-Whitney U test for two independent samples (throughput and latency repeats): exact distribution
// for small samples without ties, normal approximation with tie and continuity corrections otherwise.
#include <vector>

namespace hb::reports::stats {

struct MannWhitneyResult {
  double u = 0;  // U of x: #(x_i > y_j) + 0.5 #(x_i == y_j)
  double p_two_sided = 1;
  double p_less = 1;     // one-sided p for H1: x tends to be smaller than y
  double p_greater = 1;  // one-sided p for H1: x tends to be larger than y
  bool exact = false;
};

MannWhitneyResult mann_whitney(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace hb::reports::stats
