#include "harness/load/schedule.h"

#include <cmath>
#include <random>

namespace hb::load {

std::vector<int64_t> arrival_schedule(int n, double rate_per_s, double burstiness, uint64_t seed) {
  std::vector<int64_t> out;
  if (n <= 0) return out;
  out.reserve(static_cast<size_t>(n));
  std::mt19937_64 rng(seed);
  std::gamma_distribution<double> gap(burstiness, 1.0 / (rate_per_s * burstiness));
  std::vector<double> gaps(static_cast<size_t>(n - 1));
  double total = 0;
  for (auto& g : gaps) {
    g = gap(rng);
    total += g;
  }
  const double target = (n - 1) / rate_per_s;
  const double scale = total > 0 ? target / total : 0;
  double t = 0;
  out.push_back(0);
  for (double g : gaps) {
    t += g * scale;
    out.push_back(static_cast<int64_t>(std::llround(t * 1e9)));
  }
  return out;
}

int requests_for_duration(double rate_per_s, double duration_s) {
  double n = std::floor(rate_per_s * duration_s);
  return n < 1 ? 1 : static_cast<int>(std::min(n, 1e8));
}

}  // namespace hb::load
