#pragma once
// The answer text a grader looks at: the last turn with the reasoning trace stripped (common/reasoning.h),
// the trace kept apart, and whether the sample was cut by the token limit.
#include <string>
#include <vector>

#include "suites/suite.h"

namespace hb::suites {

struct AnswerText {
  std::string answer;        // what extraction looks at
  std::string reasoning;     // the reasoning channel plus any in-text trace
  bool truncated = false;    // finish_reason "length", or a <think> block never closed
  bool unterminated = false; // a reasoning block was opened and never closed: there is no answer
};

AnswerText answer_text(const Completion& completion, size_t turn, const std::vector<std::string>& markers);

// Fills Grade::answer_text, reasoning_text and truncated from the last turn.
AnswerText prepare_grade(Grade& g, const Completion& completion, const std::vector<std::string>& markers);

// Records the per-sample score "truncated" (1 or 0) that Suite::aggregate turns into the suite's
// truncation_rate. Only for a sample that is scored: a sample without scores stays "not scored".
void note_truncation(Grade& g);

// The truncation rule (docs/SUITES.md): a sample cut by the token limit counts as correct under `metric`
// only when its answer was explicit (a \boxed{} or a final-answer line). Otherwise the metric is 0 and the
// reason keeps what the fallback extraction would have scored, for analysis. Also calls note_truncation.
void apply_truncation_rule(Grade& g, const std::string& metric, bool explicit_answer);

}  // namespace hb::suites
