#include "harness/runner/scoring_resources.h"

#include "harness/backends/backend_factory.h"
#include "harness/base/error.h"
#include "harness/base/console.h"
#include "harness/runner/backend_judge.h"
#include "harness/sandbox/sandbox_code_runner.h"

namespace hb::runner {

ScoringResources::ScoringResources(std::string judge_spec, BackendOptions judge_options)
    : judge_spec_(std::move(judge_spec)), judge_options_(std::move(judge_options)) {}

ScoringResources::~ScoringResources() = default;

suites::ScoringContext ScoringResources::context_for(const suites::Suite& suite) {
  suites::ScoringContext ctx;
  const std::string& name = suite.info().name;
  if (name == "mbpp") {
    if (!code_runner_) {
      code_runner_ = std::make_unique<sandbox::SandboxCodeRunner>(sandbox_options_);
      if (sandbox_options_.unsafe_no_sandbox)
        log_warn("mbpp: --unsafe-no-sandbox: model-written programs run WITHOUT isolation: {}", code_runner_->describe());
      else
        log_info("mbpp: programs run in {}", code_runner_->describe());
    }
    ctx.code_runner = code_runner_.get();
  }
  if (name == "mt_bench") {
    if (judge_spec_.empty())
      throw Error(ErrorCode::usage, "suite mt_bench is graded by a judge model: pass --judge SPEC (e.g. "
                                    "--judge openai:http://HOST:PORT/v1 with --judge-name MODEL)");
    if (!judge_) {
      BackendOptions o = judge_options_;
      auto backend = make_backend(judge_spec_, o);
      std::string id = backend->describe().model_name;
      judge_ = std::make_unique<BackendJudge>(std::move(backend), id);
    }
  }
  ctx.judge = judge_.get();
  return ctx;
}

}  // namespace hb::runner
