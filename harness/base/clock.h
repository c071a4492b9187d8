#pragma once
// Time helpers. Durations and event times use the monotonic clock in nanoseconds; wall-clock time appears
// only in run manifests.
#include <chrono>
#include <cstdint>
#include <string>

namespace hb {

inline int64_t monotonic_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
// Wall-clock time now as ISO-8601 UTC ("2026-11-23T16:09:00Z").
std::string utc_now_iso8601();
// Compact local-free stamp for default run names ("20261123-160900").
std::string utc_now_compact();

}  // namespace hb
