#pragma once
// The one rule `run`, `eval` and `sweep` share for requests that failed (after their retries): a run whose
// failed fraction exceeds --max-error-rate (a study's "max_error_rate") is marked `failed` and the command
// exits 3 naming the count; a run that finishes with some failures says how many in its last line. A run
// never reports success when nothing worked.
#include <cstdint>
#include <string>

namespace hb::runner {

struct ErrorTally {
  int64_t failed = 0;  // requests (samples) that ended in an error after every attempt
  int64_t total = 0;   // requests (samples) that ended, failed or not
  void add(int64_t failed_n, int64_t total_n) {
    failed += failed_n;
    total += total_n;
  }
  // True when failed > max_rate * total (never with total == 0).
  bool exceeds(double max_rate) const;
  // "3 of 1319 samples failed (0.2%)"; `unit` names what was counted.
  std::string describe(const std::string& unit) const;
};

// Throws hb::Error usage unless 0 <= rate <= 1 (NaN refused); `option` names the flag or study field.
void check_max_error_rate(double rate, const std::string& option);

// The last stdout line of a run: "run NAME finished: 0 of 40 samples failed" / "run NAME failed: 31 of 40
// samples failed (77.5%), more than --max-error-rate 0.5".
std::string final_line(const std::string& run_name, const std::string& status, const ErrorTally& tally,
                       const std::string& unit, double max_rate);

}  // namespace hb::runner
