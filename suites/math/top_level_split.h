#pragma once
// Splitting a normalised answer at separators that stand outside every bracket: ( [ { and \{ open, ) ] } and
// \} close, so half-open intervals "(3,4]" nest correctly and "\{1,2\}" stays whole.
#include <string>
#include <string_view>
#include <vector>

namespace hb::suites::math {

// Splits at top-level occurrences of any of seps (tried in the given order). A command separator ("\cup")
// never matches inside a longer command ("\cupfoo"); a word separator ("or") only matches a whole word.
std::vector<std::string> split_top_level(std::string_view s, const std::vector<std::string>& seps);

}  // namespace hb::suites::math
