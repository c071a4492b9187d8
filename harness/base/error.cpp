#include "harness/base/error.h"

namespace hb {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::usage: return "usage";
    case ErrorCode::config: return "config";
    case ErrorCode::not_found: return "not_found";
    case ErrorCode::io: return "io";
    case ErrorCode::network: return "network";
    case ErrorCode::protocol: return "protocol";
    case ErrorCode::data: return "data";
    case ErrorCode::model: return "model";
    case ErrorCode::cuda: return "cuda";
    case ErrorCode::cancelled: return "cancelled";
    case ErrorCode::internal: return "internal";
  }
  return "unknown";
}

Error::Error(ErrorCode code, std::string message)
    : std::runtime_error(message), code_(code), message_(std::move(message)) {}

Error& Error::with_context(std::string line) {
  context_.push_back(std::move(line));
  return *this;
}

std::string Error::describe() const {
  std::string out = message_;
  for (const auto& line : context_) out += "\n  " + line;
  return out;
}

int exit_code_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::usage:
    case ErrorCode::config:
    case ErrorCode::not_found:
      return kExitUsage;
    default:
      return kExitRunFailed;
  }
}

}  // namespace hb
