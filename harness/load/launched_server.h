#pragma once
// A model server started by hybench for the length of a run (`--model launch:CMD --launch-url URL`):
// the command runs under /bin/sh in its own process group with stdout and stderr appended to a log
// file; start() waits until GET <origin>/health or <url>/models answers 200 (or the command exits, or
// the timeout passes); stop() sends SIGTERM to the group, then SIGKILL after a grace period. A server
// that dies is reported with the last lines of its log.
#include <memory>
#include <string>

namespace hb::load {

struct LaunchOptions {
  std::string command;          // shell command line
  std::string url;              // the server's base URL with /v1, e.g. http://127.0.0.1:8000/v1
  std::string log_path;         // stdout + stderr of the server
  double ready_timeout_s = 600;
  double stop_grace_s = 10;
};

class LaunchedServer {
 public:
  explicit LaunchedServer(LaunchOptions options);
  ~LaunchedServer();  // stop()
  LaunchedServer(const LaunchedServer&) = delete;
  LaunchedServer& operator=(const LaunchedServer&) = delete;

  // Starts the command and waits until healthy; throws hb::Error (run failed) with the log tail when the
  // command exits first or never becomes healthy.
  void start();
  // Throws hb::Error with the log tail when the server is no longer running.
  void check_alive() const;
  bool running() const;
  void stop();
  int pid() const;
  const LaunchOptions& options() const { return opt_; }
  // The last `lines` lines of the log.
  std::string log_tail(int lines = 20) const;

 private:
  struct Impl;
  LaunchOptions opt_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hb::load
