#pragma once
// What graders need beyond the completion: the MBPP sandbox and the MT-Bench judge. Created lazily, only
// for suites that need them, and shared by every suite of a run.
#include <memory>
#include <string>

#include "harness/backends/backend_factory.h"
#include "suites/suite.h"

namespace hb::runner {

class ScoringResources {
 public:
  ScoringResources(std::string judge_spec, BackendOptions judge_options);
  ~ScoringResources();
  suites::ScoringContext context_for(const suites::Suite& suite);

 private:
  std::string judge_spec_;
  BackendOptions judge_options_;
};

}  // namespace hb::runner
