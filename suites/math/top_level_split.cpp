#include "suites/math/top_level_split.h"

#include <cctype>

#include "harness/base/strings.h"

namespace hb::suites::math {
namespace {
bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
}  // namespace

std::vector<std::string> split_top_level(std::string_view s, const std::vector<std::string>& seps) {
  std::vector<std::string> parts;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\' && i + 1 < s.size() && (s[i + 1] == '{' || s[i + 1] == '}')) {
      depth += s[i + 1] == '{' ? 1 : -1;
      ++i;
      continue;
    }
    if (c == '(' || c == '[' || c == '{') {
      ++depth;
      continue;
    }
    if (c == ')' || c == ']' || c == '}') {
      --depth;
      continue;
    }
    if (depth != 0) continue;
    for (const auto& sep : seps) {
      if (sep.empty() || s.compare(i, sep.size(), sep) != 0) continue;
      size_t after = i + sep.size();
      if (sep[0] == '\\' && is_alpha(sep.back()) && after < s.size() && is_alpha(s[after])) continue;
      if (is_alpha(sep[0]) && ((i > 0 && is_alpha(s[i - 1])) || (after < s.size() && is_alpha(s[after])))) continue;
      parts.emplace_back(trim(s.substr(start, i - start)));
      start = after;
      i = start - 1;
      break;
    }
  }
  parts.emplace_back(trim(s.substr(start)));
  return parts;
}

}  // namespace hb::suites::math
