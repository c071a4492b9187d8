#include "harness/base/console.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "harness/base/clock.h"
#include "harness/base/redact.h"

namespace hb {
namespace {
std::mutex g_mutex;
const char* level_tag(LogLevel l) {
  switch (l) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warning";
    case LogLevel::error: return "error";
    default: return "";
  }
}
}  // namespace

Console& Console::get() {
  static Console console;
  return console;
}

Console::Console() {
  tty_ = isatty(STDERR_FILENO) == 1;
  if (const char* env = std::getenv("HYBENCH_LOG_LEVEL")) {
    std::string v = env;
    if (v == "debug") level_ = LogLevel::debug;
    else if (v == "warn") level_ = LogLevel::warn;
    else if (v == "error") level_ = LogLevel::error;
    else if (v == "quiet") level_ = LogLevel::quiet;
  }
}

void Console::log(LogLevel level, const std::string& line) {
  if (level < level_) return;
  std::lock_guard<std::mutex> lock(g_mutex);
  if (tty_ && progress_shown_) std::fputs("\r\033[2K", stderr);
  // A URL with a password never reaches a log line (stderr is often captured into CI logs).
  std::fprintf(stderr, "hybench: %s: %s\n", level_tag(level), redact_credentials(line).c_str());
  if (tty_ && progress_shown_) std::fputs(last_progress_.c_str(), stderr);
  std::fflush(stderr);
}

void Console::progress(const std::string& line, bool force) {
  if (level_ > LogLevel::info) return;
  std::lock_guard<std::mutex> lock(g_mutex);
  long long now = monotonic_ns();
  last_progress_ = line;
  printed_latest_ = false;
  if (tty_) {
    if (!force && now - last_draw_ns_ < 100'000'000LL) return;
    std::fprintf(stderr, "\r\033[2K%s", line.c_str());
    progress_shown_ = true;
  } else {
    if (!force && last_draw_ns_ != 0 && now - last_draw_ns_ < static_cast<long long>(summary_every_s_ * 1e9)) return;
    std::fprintf(stderr, "hybench: progress: %s\n", line.c_str());
  }
  printed_latest_ = true;
  last_draw_ns_ = now;
  std::fflush(stderr);
}

void Console::end_progress() {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (tty_ && progress_shown_) {
    std::fprintf(stderr, "\r\033[2K%s\n", last_progress_.c_str());
  } else if (!tty_ && !printed_latest_ && !last_progress_.empty() && level_ <= LogLevel::info) {
    std::fprintf(stderr, "hybench: progress: %s\n", last_progress_.c_str());
  }
  progress_shown_ = false;
  last_progress_.clear();
  last_draw_ns_ = 0;
  std::fflush(stderr);
}

}  // namespace hb
