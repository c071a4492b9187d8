#pragma once
// One call from an answer text and a gold answer to a verdict: run every named extraction, take the first
// that found something in the suite's priority order, and compare it with the gold through math_equal.
#include <string>
#include <string_view>
#include <vector>

#include "suites/math/math_equal.h"
#include "suites/suite.h"

namespace hb::suites::math {

struct MathGrade {
  std::vector<Extraction> extractions;  // all of them, in the priority order used
  std::string chosen;                   // name of the extraction graded ("" when none found a value)
  std::string value;                    // its value
  MathVerdict verdict;
};

// priority: extraction names in order, e.g. {"boxed", "minerva", "answer_line", "last_number"}.
MathGrade grade_math_answer(std::string_view gold, std::string_view answer_text,
                            const std::vector<std::string>& priority, const MathOptions& options = {});

}  // namespace hb::suites::math
