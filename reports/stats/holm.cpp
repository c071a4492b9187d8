#include "reports/stats/holm.h"

#include <algorithm>
#include <numeric>

namespace hb::reports::stats {

std::vector<double> holm(const std::vector<double>& p) {
  const size_t m = p.size();
  std::vector<size_t> order(m);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
  std::vector<double> adjusted(m);
  double running = 0;
  for (size_t rank = 0; rank < m; ++rank) {
    double v = std::min(1.0, static_cast<double>(m - rank) * p[order[rank]]);
    running = std::max(running, v);
    adjusted[order[rank]] = running;
  }
  return adjusted;
}

}  // namespace hb::reports::stats
