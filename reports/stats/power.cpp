#include "reports/stats/power.h"

#include <cmath>

#include "reports/format.h"
#include "reports/stats/distributions.h"
#include "reports/stats/intervals.h"

namespace hb::reports::stats {

PowerEstimate non_inferiority_power(const std::vector<double>& d, double margin, double alpha, double target_power) {
  PowerEstimate p;
  p.n = static_cast<int64_t>(d.size());
  p.margin = margin;
  p.alpha = alpha;
  auto est = mean_se(d);
  double sd = est.se * std::sqrt(static_cast<double>(est.n));
  if (p.n >= kMinItemsForSd && sd > 0) {
    p.sd = sd;
    p.sd_assumed = false;
  }
  const double z_alpha = normal_quantile(1 - alpha);
  const double z_power = normal_quantile(target_power);
  if (margin <= 0) {
    p.power = 0;
    p.n_needed = -1;  // a zero margin can never be shown
    return p;
  }
  p.power = normal_cdf(margin * std::sqrt(static_cast<double>(p.n)) / p.sd - z_alpha);
  p.n_needed = static_cast<int64_t>(std::ceil(std::pow((z_alpha + z_power) * p.sd / margin, 2)));
  return p;
}

std::string describe_power(const PowerEstimate& p, double scale) {
  std::string drop = scale == 100 ? fixed(p.margin * 100, 1) + "-point drop" : "drop of " + fixed(p.margin * scale, 3);
  std::string head = "with n=" + std::to_string(p.n) + " a " + drop +
                     (p.power < 0.8 ? " cannot be reliably detected" : " can be detected") + " at alpha " +
                     fixed(p.alpha, 2) + " (power " + fixed(p.power, 2) + ")";
  if (p.n_needed < 0) return head + "; a margin of 0 can never be shown";
  return head + "; power 0.80 needs n≈" + std::to_string(p.n_needed) + " items (" +
         (p.sd_assumed ? "planning sd " : "observed sd ") + fixed(p.sd, 3) + " of the per-item differences)";
}

}  // namespace hb::reports::stats
