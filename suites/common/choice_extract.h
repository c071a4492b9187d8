#pragma once
// Multiple-choice letter extraction that never takes a stray word ("a", "I") for a choice. Named
// extractions in priority order:
//   answer_line   the last "Answer: X" / "answer is X" / "Answer: (X)" / "**Answer:** X", where X is an
//                 uppercase letter among the choices followed by a non-letter
//   boxed         the last \boxed{X} or \boxed{\text{X}} or \boxed{(X)}
//   final_line    the last non-empty line is only the letter, "(X)", "X)" or "X." (with optional markup)
//   prose         the last sentence of the final paragraph that names a choice ("(B)", "option B", "choice
//                 B", "**B**", "B is correct") names exactly one letter: "so I'll go with (B)."; a sentence
//                 naming two ("(A) is wrong, so (B)") gives none
// answer_line and boxed are explicit answers (the truncation rule); final_line and prose are fallbacks.
#include <string>
#include <string_view>
#include <vector>

#include "suites/suite.h"

namespace hb::suites {

// letters: the valid choices, e.g. "ABCD".
std::vector<Extraction> extract_choice(std::string_view text, std::string_view letters);

bool is_explicit_choice(std::string_view extraction_name);

}  // namespace hb::suites
