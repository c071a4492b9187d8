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

}  // namespace hb::suites
