#include "suites/common/code_runner.h"

namespace hb::suites {

const char* run_status_name(RunResult::Status status) {
  switch (status) {
    case RunResult::Status::passed: return "passed";
    case RunResult::Status::failed: return "failed";
    case RunResult::Status::timeout: return "timeout";
    case RunResult::Status::crashed: return "crashed";
    case RunResult::Status::error: return "error";
  }
  return "?";
}

std::vector<RunResult> CodeRunner::run_all(const std::vector<std::string>& programs, double timeout_s) {
  std::vector<RunResult> out;
  out.reserve(programs.size());
  for (const auto& p : programs) out.push_back(run(p, timeout_s));
  return out;
}

}  // namespace hb::suites
