#pragma once
// LaTeX normalisation of one final answer before it is parsed: display and spacing commands, \left/\right,
// \dfrac/\tfrac, degrees, percent and dollar signs, \text{} and friends, thousands separators written as
// {,} or ,\!, units after a number, trailing periods, "x \in" prefixes, unicode look-alikes. Linear in the
// input apart from a fixed number of passes; callers cap the input length.
#include <string>
#include <string_view>

namespace hb::suites::math {

struct NormalizedAnswer {
  std::string text;
  bool was_text = false;  // the whole answer was one \text{...} (a word answer such as "Evelyn" or "(C)")
  bool had_percent = false;  // a percent sign was dropped ("50\%" -> "50")
};

NormalizedAnswer normalize_latex(std::string_view answer);

// Removes the braces of a command's argument and the command: strip_command("\\text{ab}c", "text") ==
// " ab c". Braces are matched; an unbalanced argument keeps the rest of the string.
std::string unwrap_command(std::string_view s, std::string_view command);

void replace_all(std::string& s, std::string_view from, std::string_view to);

}  // namespace hb::suites::math
