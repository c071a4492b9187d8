// The explicit list of suites: one line per suite, so a reader sees them all in one place.
#include "harness/base/error.h"
#include "harness/base/strings.h"
#include "suites/aime/aime_suite.h"
#include "suites/gpqa/gpqa_suite.h"
#include "suites/gsm8k/gsm8k_suite.h"
#include "suites/math500/math500_suite.h"
#include "suites/mbpp/mbpp_suite.h"
#include "suites/mt_bench/mt_bench_suite.h"
#include "suites/suite.h"

namespace hb::suites {
namespace {
struct Entry {
  const char* name;
  std::unique_ptr<Suite> (*make)(const SuiteOptions&);
};
const std::vector<Entry>& registry() {
  static const std::vector<Entry> entries = {
      {"gsm8k", make_gsm8k_suite},
      {"math500", make_math500_suite},
      {"aime24", make_aime24_suite},
      {"aime25", make_aime25_suite},
      {"gpqa", make_gpqa_suite},
      {"mbpp", make_mbpp_suite},
      {"mt_bench", make_mt_bench_suite},
  };
  return entries;
}
}  // namespace

std::vector<std::string> suite_names() {
  std::vector<std::string> names;
  for (const auto& e : registry()) names.push_back(e.name);
  return names;
}

std::unique_ptr<Suite> make_suite(const std::string& spec, const SuiteOptions& options) {
  // "name" or "name:variant"
  std::string name = spec, variant = options.variant;
  if (auto colon = spec.find(':'); colon != std::string::npos) {
    name = spec.substr(0, colon);
    variant = spec.substr(colon + 1);
  }
  for (const auto& e : registry()) {
    if (name == e.name) {
      SuiteOptions o = options;
      o.variant = variant;
      return e.make(o);
    }
  }
  std::string hint = did_you_mean(name, suite_names());
  throw Error(ErrorCode::usage, "unknown suite '" + name + "'" + (hint.empty() ? "" : "; " + hint) +
                                    "; available: " + join(suite_names(), ", "));
}

}  // namespace hb::suites
