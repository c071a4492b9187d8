#pragma once
// What graders need beyond the completion: the MBPP sandbox and the MT-Bench judge. Created lazily, only
// for suites that need them, and shared by every suite of a run.
#include <memory>
#include <mutex>
#include <string>

#include "harness/backends/backend_factory.h"
#include "harness/sandbox/sandbox_options.h"
#include "suites/common/code_runner.h"
#include "suites/common/judge.h"
#include "suites/suite.h"

namespace hb::runner {

class ScoringResources {
 public:
  // judge_spec: a backend spec for the judge ("" = none); judge_options: its connection settings.
  ScoringResources(std::string judge_spec, BackendOptions judge_options);
  ~ScoringResources();
  // Throws Error{usage} when the suite needs a judge and none was given.
  // Throws Error{config} for MBPP when no sandbox can be built (sandbox_code_runner.h says why).
  suites::ScoringContext context_for(const suites::Suite& suite);
  // Settings of the MBPP sandbox; call before the first context_for.
  void set_sandbox_options(sandbox::SandboxOptions options) { sandbox_options_ = std::move(options); }

 private:
  std::string judge_spec_;
  BackendOptions judge_options_;
  sandbox::SandboxOptions sandbox_options_;
  std::unique_ptr<suites::CodeRunner> code_runner_;
  std::unique_ptr<suites::Judge> judge_;
};

}  // namespace hb::runner
