#pragma once
// Starts a program as a child process for end-to-end tests, with stdout/stderr to files.
#include <sys/types.h>

#include <string>
#include <vector>

namespace hb::test {

class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::string& stdout_path, const std::string& stderr_path);
  ~ChildProcess();  // kills (SIGKILL) and reaps a child still running
  // Waits up to timeout_s; returns the exit code, 128+signal when killed, or -1 on timeout.
  int wait(double timeout_s);
  void kill_hard();
  bool running();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int status_ = -1;
  bool reaped_ = false;
};

// Runs a program to completion; returns its exit code (-1 on timeout, after killing it).
int run_program(const std::vector<std::string>& argv, const std::string& out_path, const std::string& err_path,
                double timeout_s);

}  // namespace hb::test
