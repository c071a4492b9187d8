#pragma once
// One error type for the whole project: a code, a message (what failed, the value, what to do) and a
// context chain that grows as the error unwinds. Per-request failures are not errors: they are data
// (ErrorInfo) stored with the sample.
#include <stdexcept>
#include <string>
#include <vector>

namespace hb {

enum class ErrorCode { usage, config, not_found, io, network, protocol, data, model, cuda, cancelled, internal };

const char* error_code_name(ErrorCode code);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, std::string message);
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::vector<std::string>& context() const { return context_; }
  // Adds a line such as "while reading config.json"; returns *this so `throw e.with_context(..)` works.
  Error& with_context(std::string line);
  // Message plus context lines, one per line.
  std::string describe() const;

 private:
  ErrorCode code_;
  std::string message_;
  std::vector<std::string> context_;
};

// A failure of one request or one sample, stored as data. kind is a short stable word used for counting
// ("connect", "timeout", "http_429", "http_5xx", "protocol", "truncated", "cancelled", ...).
struct ErrorInfo {
  std::string kind;
  std::string message;
};

// Exit codes of the CLI (README documents them).
enum ExitCode : int { kExitOk = 0, kExitVerdictFailed = 1, kExitUsage = 2, kExitRunFailed = 3 };
int exit_code_for(ErrorCode code);

}  // namespace hb
