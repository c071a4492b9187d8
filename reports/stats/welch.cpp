#include "reports/stats/welch.h"

#include <cmath>
#include <limits>

namespace hb::reports::stats {
namespace {

// Continued fraction of the regularized incomplete beta function (modified Lentz), valid for
// x < (a + 1) / (a + b + 2); the caller uses the symmetry I_x(a, b) = 1 - I_{1-x}(b, a) otherwise.
double beta_fraction(double a, double b, double x) {
  const double tiny = 1e-300;
  double c = 1, d = 1 - (a + b) * x / (a + 1);
  if (std::fabs(d) < tiny) d = tiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 500; ++m) {
    double m2 = 2.0 * m;
    double num = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
    d = 1 + num * d;
    c = 1 + num / c;
    d = 1 / (std::fabs(d) < tiny ? tiny : d);
    c = std::fabs(c) < tiny ? tiny : c;
    h *= d * c;
    num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
    d = 1 + num * d;
    c = 1 + num / c;
    d = 1 / (std::fabs(d) < tiny ? tiny : d);
    c = std::fabs(c) < tiny ? tiny : c;
    double step = d * c;
    h *= step;
    if (std::fabs(step - 1) < 1e-14) break;
  }
  return h;
}

double incomplete_beta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  double log_front = std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return std::exp(log_front) * beta_fraction(a, b, x) / a;
  return 1 - std::exp(log_front) * beta_fraction(b, a, 1 - x) / b;
}

void mean_var(const std::vector<double>& v, double& mean, double& var) {
  mean = 0;
  for (double x : v) mean += std::log(x);
  mean /= static_cast<double>(v.size());
  var = 0;
  for (double x : v) var += (std::log(x) - mean) * (std::log(x) - mean);
  var /= static_cast<double>(v.size() - 1);
}

}  // namespace

double student_t_cdf(double t, double df) {
  if (std::isinf(t)) return t > 0 ? 1 : 0;
  double tail = 0.5 * incomplete_beta(df / 2, 0.5, df / (df + t * t));  // P(T > |t|)
  return t >= 0 ? 1 - tail : tail;
}

std::optional<WelchResult> welch_log(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() < 2 || y.size() < 2) return std::nullopt;
  for (double v : x)
    if (!(v > 0)) return std::nullopt;
  for (double v : y)
    if (!(v > 0)) return std::nullopt;
  double mx, vx, my, vy;
  mean_var(x, mx, vx);
  mean_var(y, my, vy);
  double sx = vx / static_cast<double>(x.size()), sy = vy / static_cast<double>(y.size());
  WelchResult r;
  double se2 = sx + sy;
  if (se2 <= 0) {
    // No spread on either side: the sign of the difference is certain.
    r.t = mx < my ? -std::numeric_limits<double>::infinity() : mx > my ? std::numeric_limits<double>::infinity() : 0;
    r.df = static_cast<double>(x.size() + y.size() - 2);
    r.p_less = mx < my ? 0 : 1;
    r.p_greater = mx > my ? 0 : 1;
    if (mx == my) r.p_less = r.p_greater = 1;
    return r;
  }
  r.t = (mx - my) / std::sqrt(se2);
  double den = sx * sx / static_cast<double>(x.size() - 1) + sy * sy / static_cast<double>(y.size() - 1);
  r.df = den > 0 ? se2 * se2 / den : static_cast<double>(x.size() + y.size() - 2);
  r.p_less = student_t_cdf(r.t, r.df);
  r.p_greater = 1 - r.p_less;
  return r;
}

}  // namespace hb::reports::stats
