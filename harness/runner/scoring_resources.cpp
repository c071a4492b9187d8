#include "harness/runner/scoring_resources.h"

namespace hb::runner {

ScoringResources::ScoringResources(std::string judge_spec, BackendOptions judge_options)
    : judge_spec_(std::move(judge_spec)), judge_options_(std::move(judge_options)) {}

ScoringResources::~ScoringResources() = default;

suites::ScoringContext ScoringResources::context_for(const suites::Suite&) { return {}; }

}  // namespace hb::runner
