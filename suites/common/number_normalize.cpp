#include "suites/common/number_normalize.h"

#include <cctype>

#include "harness/base/strings.h"

namespace hb::suites {
namespace {
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Replaces the UTF-8 minus sign (U+2212) and en dash used as minus with '-'.
std::string ascii_minus(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (i + 2 < s.size() && static_cast<unsigned char>(s[i]) == 0xE2 && static_cast<unsigned char>(s[i + 1]) == 0x88 &&
        static_cast<unsigned char>(s[i + 2]) == 0x92) {
      out += '-';
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}
}  // namespace

std::optional<std::string> normalize_number(std::string_view raw) {
  std::string s = ascii_minus(trim(raw));
  std::string cleaned;
  for (char c : s) {
    if (c == ',' || c == '$' || c == ' ') continue;
    cleaned += c;
  }
  while (!cleaned.empty() && (cleaned.back() == '.' || cleaned.back() == '%')) cleaned.pop_back();
  if (cleaned.empty()) return std::nullopt;
  bool negative = false;
  size_t i = 0;
  if (cleaned[0] == '-' || cleaned[0] == '+') {
    negative = cleaned[0] == '-';
    i = 1;
  }
  std::string int_part, frac_part;
  bool seen_dot = false;
  for (; i < cleaned.size(); ++i) {
    char c = cleaned[i];
    if (is_digit(c)) {
      (seen_dot ? frac_part : int_part) += c;
    } else if (c == '.' && !seen_dot) {
      seen_dot = true;
    } else {
      return std::nullopt;
    }
  }
  if (int_part.empty() && frac_part.empty()) return std::nullopt;
  size_t nz = int_part.find_first_not_of('0');
  int_part = nz == std::string::npos ? "0" : int_part.substr(nz);
  while (!frac_part.empty() && frac_part.back() == '0') frac_part.pop_back();
  std::string out = int_part;
  if (!frac_part.empty()) out += "." + frac_part;
  if (negative && out != "0") out = "-" + out;
  return out;
}

std::optional<std::string> last_number(std::string_view text) {
  std::string s = ascii_minus(text);
  // Scan right to left for the last digit, then extend left over digits, commas, dots, '$' and a sign.
  size_t end = s.size();
  while (end > 0 && !is_digit(s[end - 1])) --end;
  if (end == 0) return std::nullopt;
  size_t begin = end;
  while (begin > 0) {
    char c = s[begin - 1];
    if (is_digit(c)) {
      --begin;
    } else if ((c == ',' || c == '.') && begin >= 2 && is_digit(s[begin - 2])) {
      --begin;
    } else {
      break;
    }
  }
  if (begin > 0 && s[begin - 1] == '-') --begin;
  // Include a trailing decimal part only when digits follow the dot (handled by the right-to-left walk).
  return normalize_number(std::string_view(s).substr(begin, end - begin));
}

bool numbers_equal(std::string_view a, std::string_view b) {
  auto na = normalize_number(a), nb = normalize_number(b);
  return na && nb && *na == *nb;
}

}  // namespace hb::suites
