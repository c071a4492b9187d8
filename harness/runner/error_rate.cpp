#include "harness/runner/error_rate.h"

#include <fmt/format.h>

#include "harness/base/error.h"

namespace hb::runner {

bool ErrorTally::exceeds(double max_rate) const {
  return total > 0 && static_cast<double>(failed) > max_rate * static_cast<double>(total);
}

std::string ErrorTally::describe(const std::string& unit) const {
  std::string s = fmt::format("{} of {} {} failed", failed, total, unit);
  if (failed > 0 && total > 0) s += fmt::format(" ({:.1f}%)", 100.0 * static_cast<double>(failed) / static_cast<double>(total));
  return s;
}

void check_max_error_rate(double rate, const std::string& option) {
  if (!(rate >= 0 && rate <= 1))
    throw Error(ErrorCode::usage, fmt::format("{} must be a fraction between 0 and 1 (e.g. 0.05), got {}", option, rate));
}

std::string final_line(const std::string& run_name, const std::string& status, const ErrorTally& tally,
                       const std::string& unit, double max_rate) {
  std::string s = "run " + run_name + " " + status + ": " + tally.describe(unit);
  if (tally.exceeds(max_rate)) s += fmt::format(", more than the allowed error rate {:g}", max_rate);
  return s;
}

}  // namespace hb::runner
