#pragma once
// Holm's step-down correction for a family of tests.
#include <vector>

namespace hb::reports::stats {

// Holm-adjusted p-values, in the input order (monotone, capped at 1). Reject test i at level alpha when
// adjusted[i] <= alpha.
std::vector<double> holm(const std::vector<double>& p_values);

}  // namespace hb::reports::stats
