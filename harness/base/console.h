#pragma once
// The one owner of stderr: log lines and a live progress line that is redrawn in place on a terminal
// (at most 10 times a second) and replaced by a periodic summary line otherwise. stdout is left to
// results. Thread-safe.
#include <fmt/format.h>

#include <string>

namespace hb {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3, quiet = 4 };

class Console {
 public:
  static Console& get();
  void set_level(LogLevel level) { level_ = level; }
  LogLevel level() const { return level_; }
  bool is_tty() const { return tty_; }
  void log(LogLevel level, const std::string& line);
  // Shows `line` as the live progress line. On a TTY it is redrawn (throttled unless force);
  // otherwise it is printed as a log line at most every `summary_every_s` seconds (or when force).
  void progress(const std::string& line, bool force = false);
  // Ends the live progress line (prints it one final time on its own line).
  void end_progress();
  void set_summary_interval_s(double s) { summary_every_s_ = s; }

 private:
  Console();
  LogLevel level_ = LogLevel::info;
  bool tty_ = false;
  bool progress_shown_ = false;
  bool printed_latest_ = false;
  std::string last_progress_;
  long long last_draw_ns_ = 0;
  double summary_every_s_ = 5.0;
};

template <typename... Args>
void log_info(fmt::format_string<Args...> f, Args&&... args) {
  Console::get().log(LogLevel::info, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void log_warn(fmt::format_string<Args...> f, Args&&... args) {
  Console::get().log(LogLevel::warn, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void log_error(fmt::format_string<Args...> f, Args&&... args) {
  Console::get().log(LogLevel::error, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void log_debug(fmt::format_string<Args...> f, Args&&... args) {
  if (Console::get().level() <= LogLevel::debug)
    Console::get().log(LogLevel::debug, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace hb
