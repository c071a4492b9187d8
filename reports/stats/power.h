#pragma once
// How many items a paired non-inferiority test needs: the guard behind "no decision: too little data".
// Normal approximation for the mean of per-item differences d_i = b_i - a_i with standard deviation sd:
// the one-sided test at level alpha passes a candidate that is truly as good as the baseline with power
// Phi(margin sqrt(n) / sd - z_{1-alpha}), and reaching power P needs n = ((z_{1-alpha} + z_P) sd / margin)^2.
#include <cstdint>
#include <string>
#include <vector>

namespace hb::reports::stats {

// The sd used for planning when the data cannot estimate it (fewer than kMinItemsForSd items, or no
// variation): 0.5, the sd of a difference of two binary scores that disagree on a quarter of the items.
inline constexpr double kPlanningSd = 0.5;
inline constexpr int64_t kMinItemsForSd = 30;

struct PowerEstimate {
  int64_t n = 0;
  double margin = 0, alpha = 0.05;
  double sd = kPlanningSd;
  bool sd_assumed = true;  // the planning value, not the data's
  double power = 0;        // at n items
  int64_t n_needed = 0;    // for power 0.8
};

// d: the per-item differences actually observed (their sd is used when there are enough and they vary).
PowerEstimate non_inferiority_power(const std::vector<double>& d, double margin, double alpha,
                                    double target_power = 0.8);
// "with n=4 a 5.0-point drop cannot be detected at alpha 0.05 (power 0.06); power 0.8 needs n≈2473 items
// (planning sd 0.500 of the per-item differences)". scale 100 speaks in points; 1 in the metric's own units.
std::string describe_power(const PowerEstimate& p, double scale = 100);

}  // namespace hb::reports::stats
