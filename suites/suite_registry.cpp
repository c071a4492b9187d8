#include "harness/base/error.h"
#include "harness/base/strings.h"
#include "suites/suite.h"

namespace hb::suites {
std::vector<std::string> suite_names() { return {}; }
std::unique_ptr<Suite> make_suite(const std::string& name, const SuiteOptions&) {
  throw Error(ErrorCode::usage, "unknown suite '" + name + "'");
}
}  // namespace hb::suites
