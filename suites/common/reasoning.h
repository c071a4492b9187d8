#pragma once
// Splits a reasoning model's completion into its reasoning trace and its final answer, before any
// answer extraction. A marker is either an end-of-reasoning string ("</think>": the answer is what follows
// its last occurrence) or an "OPEN|CLOSE" pair ("[BEGIN FINAL RESPONSE]|[END FINAL RESPONSE]": the answer is
// what lies between the last OPEN and the CLOSE after it, or the end of the text).
#include <string>
#include <string_view>
#include <vector>

namespace hb::suites {

struct ReasoningSplit {
  std::string reasoning;  // the trace (empty when no marker matched)
  std::string answer;     // what extraction should look at
  bool found = false;     // a marker matched
  bool unterminated = false;  // a <think> was opened and never closed: the answer is empty
};

// "</think>" and Apriel's "[BEGIN FINAL RESPONSE]|[END FINAL RESPONSE]".
const std::vector<std::string>& default_reasoning_markers();

// Applies the first marker that matches, in order. An empty marker list means the defaults.
ReasoningSplit split_reasoning(std::string_view text, const std::vector<std::string>& markers = {});

}  // namespace hb::suites
