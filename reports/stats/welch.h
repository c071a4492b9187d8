#pragma once
// One-sided Welch t-test on log values, for throughput repeats: a ratio test (log(head) - log(base)) that
// can be significant with few repeats, unlike Mann-Whitney, whose smallest one-sided p with 3 repeats a
// side is 1/20 = 0.05. Assumptions (docs/REPORTS.md): the repeats of each side are independent and their
// logarithms roughly normal; variances may differ. Needs at least 2 values a side, all positive.
#include <optional>
#include <vector>

namespace hb::reports::stats {

// Student's t CDF with `df` (> 0, not necessarily integer) degrees of freedom.
double student_t_cdf(double t, double df);

struct WelchResult {
  double t = 0;
  double df = 0;
  double p_less = 1;     // H1: x tends to be smaller than y
  double p_greater = 1;  // H1: x tends to be larger than y
};

// Welch's test on log(x) vs log(y); nullopt with fewer than 2 values a side or a value <= 0.
std::optional<WelchResult> welch_log(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace hb::reports::stats
