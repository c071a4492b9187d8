#pragma once
// Final-answer extraction from a whole solution text, as named extractions in this documented order:
//   boxed        the final \boxed{...} / \fbox{...} (nested braces counted, also "\boxed 5"); when several
//                boxes close the text (each within 160 characters of the next, no blank line between) all
//                of them are the answer, one set "a, b" (duplicates once)
//   minerva      "The final answer is X" up to "I hope it is correct" or the end of the line
//   answer_line  the last "Final Answer:" / "answer:" / "answer is" / "**Final Answer**" heading whose span
//                holds an answer: its first math span (several joined by "or"/"and"/"," are one set), else
//                the text up to the end of the sentence; prose such as "the answer is reasonable" is skipped
//   math_span    the last complete $...$, $$...$$, \(...\), \[...\] as one whole expression (a lone variable
//                such as "$n$" is passed over); none when a standalone prose number follows it
//   last_number  the last standalone number of the prose (text_spans.h): never inside math or a LaTeX
//                command, never one of a listed pair, never when the text says there is no answer
// boxed, minerva and answer_line are explicit final answers; math_span and last_number are fallbacks.
// All scans are linear in the text; spans over 4000 characters are rejected.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "suites/suite.h"

namespace hb::suites::math {

// The last box alone (a multiple-choice letter, a gold solution's answer).
std::optional<std::string> last_boxed(std::string_view text, std::string* why = nullptr);

// The final group of boxes (see above), joined as one answer; nullopt when the text has no closed box.
std::optional<std::string> final_boxed(std::string_view text, std::string* why = nullptr);

// Every extraction (found or not, with its reason), in the order above.
std::vector<Extraction> extract_math_answers(std::string_view text);

// True for extractions that are an explicit final answer (boxed, minerva, answer_line).
bool is_explicit_answer(std::string_view extraction_name);

}  // namespace hb::suites::math
