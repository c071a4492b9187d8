#pragma once
// Multiple-choice letter extraction that never takes a stray word ("a", "I") for a choice. Named
// extractions in priority order:
//   answer_line   the last "Answer: X" / "answer is X" / "Answer: (X)" / "**Answer:** X", where X is an
//                 uppercase letter among the choices followed by a non-letter
//   boxed         the last \boxed{X} or \boxed{\text{X}} or \boxed{(X)}
//   final_line    the last non-empty line is only the letter, "(X)", "X)" or "X." (with optional markup)
#include <string>
#include <string_view>
#include <vector>

#include "suites/suite.h"

namespace hb::suites {

// letters: the valid choices, e.g. "ABCD".
std::vector<Extraction> extract_choice(std::string_view text, std::string_view letters);

}  // namespace hb::suites
