#pragma once
// Runs untrusted programs for code suites (MBPP). Suites see only this interface; harness/sandbox
// implements it (a fresh python3 process per program, resource limits, no network). Implementations must
// be safe to call from several threads at once.
#include <string>
#include <vector>

namespace hb::suites {

struct RunResult {
  enum class Status {
    passed,     // exited with status 0
    failed,     // exited with a non-zero status (an assertion, an exception)
    timeout,    // killed after the wall-clock limit
    crashed,    // killed by a signal or a resource limit (memory, CPU, file size)
    error,      // the runner itself could not run the program (no python3, no temp dir)
  };
  Status status = Status::error;
  int exit_code = -1;
  int signal = 0;
  double wall_s = 0;
  std::string stdout_tail;    // the last bytes of stdout (capped)
  std::string stderr_tail;    // the last bytes of stderr (capped): the assertion or exception
  bool output_truncated = false;
  std::string reason;         // one line: why this status
  bool passed() const { return status == Status::passed; }
};

const char* run_status_name(RunResult::Status status);

class CodeRunner {
 public:
  virtual ~CodeRunner() = default;
  // Runs one program with a wall-clock limit. Never throws for a bad program; a runner failure is
  // Status::error with a reason.
  virtual RunResult run(const std::string& program, double timeout_s) = 0;
  // Runs several programs, up to the runner's parallelism at a time; results in input order.
  virtual std::vector<RunResult> run_all(const std::vector<std::string>& programs, double timeout_s);
  // A short description for run records ("python3 3.11.2, sandbox: netns+rlimits").
  virtual std::string describe() const { return "code runner"; }
};

}  // namespace hb::suites
