#include "harness/base/clock.h"

#include <ctime>

namespace hb {
namespace {
std::string format_now(const char* fmt) {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, fmt, &tm);
  return buf;
}
}  // namespace
std::string utc_now_iso8601() { return format_now("%Y-%m-%dT%H:%M:%SZ"); }
std::string utc_now_compact() { return format_now("%Y%m%d-%H%M%S"); }
}  // namespace hb
