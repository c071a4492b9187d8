#pragma once
// Final-answer extraction for math suites, as named extractions in priority order:
//   boxed        the last \boxed{...} or \fbox{...} (nested braces counted), also "\boxed 5"
//   minerva      "Final Answer: The final answer is X. I hope it is correct."
//   answer_line  the last "answer: X" / "answer is X" (case-insensitive), to the end of its line
//   last_number  the last number in the text
// All scans are linear in the text; nothing is copied beyond the chosen span.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "suites/suite.h"

namespace hb::suites::math {

std::optional<std::string> last_boxed(std::string_view text, std::string* why = nullptr);

// Every extraction (found or not, with its reason), in priority order.
std::vector<Extraction> extract_math_answers(std::string_view text);

// The first extraction that found a value; nullptr when none did.
const Extraction* first_found(const std::vector<Extraction>& extractions);

}  // namespace hb::suites::math
