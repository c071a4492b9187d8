#include "suites/math/text_spans.h"

#include <algorithm>
#include <cctype>

#include "harness/base/strings.h"
#include "suites/common/number_normalize.h"

namespace hb::suites::math {
namespace {

constexpr size_t kMaxGroup = 4000;  // a {} argument longer than this is not skipped as one

bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The closing delimiter of a span kind, searched once per kind: after a miss, later openers of the same kind
// are known to be unclosed too (keeps hostile texts with thousands of "\(" linear).
class CloserCache {
 public:
  size_t find(std::string_view text, std::string_view closer, size_t from) {
    if (from >= miss_from_) return std::string_view::npos;
    size_t p = from;
    while ((p = text.find(closer, p)) != std::string_view::npos) {
      if (closer == "$" && p > 0 && text[p - 1] == '\\') {  // an escaped dollar is not a delimiter
        ++p;
        continue;
      }
      return p;
    }
    miss_from_ = from;
    return std::string_view::npos;
  }

 private:
  size_t miss_from_ = std::string_view::npos;
};

// For every '{', the index of its matching '}' (npos when unclosed), in one pass: skipping the {} arguments
// of thousands of unclosed commands stays linear.
std::vector<size_t> match_braces(std::string_view text) {
  std::vector<size_t> match(text.size(), std::string_view::npos);
  std::vector<size_t> open;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\') {
      ++i;
    } else if (c == '{') {
      open.push_back(i);
    } else if (c == '}' && !open.empty()) {
      match[open.back()] = i;
      open.pop_back();
    }
  }
  return match;
}

// A unit glued to a number ("12m", "5kg", "3cm²"): a short unit symbol, then no letter.
bool unit_follows(std::string_view text, size_t e) {
  size_t k = e;
  while (k < text.size() && is_alpha(text[k])) ++k;
  std::string_view unit = text.substr(e, k - e);
  static const char* units[] = {"m", "cm", "mm", "km", "kg", "g", "mg", "s", "ms", "h", "min", "l", "ml", "ft", "mph"};
  for (const char* u : units)
    if (unit == u) return true;
  return false;
}

std::string lower_word_before(std::string_view text, size_t pos) {
  size_t e = pos;
  while (e > 0 && is_space(text[e - 1])) --e;
  size_t b = e;
  while (b > 0 && is_alpha(text[b - 1])) --b;
  return to_lower(text.substr(b, e - b));
}

bool is_label_word(const std::string& w) {
  static const char* words[] = {"step", "case", "part", "problem", "method", "option", "question", "line",
                                "equation", "round", "stage", "phase", "figure", "example", "exercise"};
  for (const char* x : words)
    if (w == x) return true;
  return false;
}

bool is_approx_word(const std::string& w) {
  static const char* words[] = {"about", "approximately", "roughly", "nearly", "around", "almost", "circa", "approx"};
  for (const char* x : words)
    if (w == x) return true;
  return false;
}

// Text between two numbers that makes them a list: ",", "and", "or", ", and", "to", "&", "/", "-".
bool is_list_connector(std::string_view between) {
  std::string t = to_lower(trim(between));
  std::string compact;
  for (char c : t)
    if (!is_space(c) && c != '$') compact += c;
  static const char* conns[] = {",", "and", "or", ",and", ",or", "&", "to", "-", ";", "nor", "versus", "vs", "vs."};
  for (const char* c : conns)
    if (compact == c) return true;
  return false;
}

}  // namespace

std::vector<MathSpan> find_math_spans(std::string_view text) {
  std::vector<MathSpan> out;
  CloserCache dollar, dollar2, paren, bracket;
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    char c = text[i];
    if (c == '\\' && i + 1 < n) {
      char d = text[i + 1];
      if (d == '(' || d == '[') {
        size_t close = (d == '(' ? paren : bracket).find(text, d == '(' ? "\\)" : "\\]", i + 2);
        if (close != std::string_view::npos) {
          out.push_back({i, close + 2, i + 2, close});
          i = close + 2;
          continue;
        }
      } else if (text.compare(i, 7, "\\begin{") == 0) {
        size_t name_end = text.find('}', i + 7);
        if (name_end != std::string_view::npos && name_end - i < 40) {
          std::string_view name = text.substr(i + 7, name_end - i - 7);
          std::string_view base = name.substr(0, name.find('*'));
          if (base == "equation" || base == "align" || base == "gather" || base == "displaymath" || base == "eqnarray") {
            std::string end_tag = "\\end{" + std::string(name) + "}";
            size_t close = text.find(end_tag, name_end + 1);
            if (close != std::string_view::npos) {
              out.push_back({i, close + end_tag.size(), name_end + 1, close});
              i = close + end_tag.size();
              continue;
            }
          }
        }
      }
      i += 2;  // an escaped character (\$ included) or the first letter of a command
      continue;
    }
    if ((c == '[' && text.compare(i, 5, "[asy]") == 0) || (c == '`' && text.compare(i, 3, "```") == 0)) {
      bool asy = c == '[';
      size_t close = text.find(asy ? "[/asy]" : "```", i + (asy ? 5 : 3));
      size_t after = close == std::string_view::npos ? n : close + (asy ? 6 : 3);
      MathSpan code{i, after, i, close == std::string_view::npos ? n : close};
      code.code = true;
      out.push_back(code);
      i = after;
      continue;
    }
    if (c == '$') {
      bool display = i + 1 < n && text[i + 1] == '$';
      size_t from = i + (display ? 2 : 1);
      size_t close = (display ? dollar2 : dollar).find(text, display ? "$$" : "$", from);
      if (close != std::string_view::npos) {
        size_t after = close + (display ? 2 : 1);
        out.push_back({i, after, from, close});
        i = after;
        continue;
      }
      i = from;
      continue;
    }
    ++i;
  }
  return out;
}

std::vector<ProseNumber> prose_numbers(std::string_view text, const std::vector<MathSpan>& spans) {
  std::vector<ProseNumber> out;
  const size_t n = text.size();
  const std::vector<size_t> braces = match_braces(text);
  size_t span = 0, sentence = 0, i = 0;
  while (i < n) {
    while (span < spans.size() && spans[span].close <= i) ++span;
    if (span < spans.size() && spans[span].open <= i) {
      i = spans[span].close;
      continue;
    }
    char c = text[i];
    if (c == '\\') {
      size_t j = i + 1;
      if (j < n && !is_alpha(text[j])) {  // \$ \, \% ...: the character is not a number's part
        i = j + 1;
        continue;
      }
      while (j < n && is_alpha(text[j])) ++j;
      while (j < n && (text[j] == '{' || text[j] == '[')) {
        size_t close = text.substr(j, 41).find(']');
        size_t g = text[j] == '{' ? braces[j] : (close == std::string_view::npos ? close : j + close);
        if (g == std::string_view::npos || g - j > (text[j] == '[' ? 40 : kMaxGroup)) break;
        j = g + 1;
      }
      i = j;
      continue;
    }
    if (c == '\n' || ((c == '.' || c == '!' || c == '?' || c == ';') && (i + 1 == n || is_space(text[i + 1])))) {
      ++sentence;
      ++i;
      continue;
    }
    bool starts = is_digit(c) || (c == '-' && i + 1 < n && is_digit(text[i + 1])) ||
                  (c == '.' && i + 1 < n && is_digit(text[i + 1]));
    if (!starts) {
      ++i;
      continue;
    }
    size_t b = i, j = i;
    if (text[j] == '-') ++j;
    while (j < n && is_digit(text[j])) ++j;
    // Thousands groups: ",ddd" not followed by another digit.
    while (j + 3 < n && text[j] == ',' && is_digit(text[j + 1]) && is_digit(text[j + 2]) && is_digit(text[j + 3]) &&
           (j + 4 >= n || !is_digit(text[j + 4])))
      j += 4;
    if (j + 1 < n && text[j] == '.' && is_digit(text[j + 1])) {
      ++j;
      while (j < n && is_digit(text[j])) ++j;
    }
    bool fraction = false;
    size_t e = j;
    if (e + 1 < n && text[e] == '/' && is_digit(text[e + 1])) {
      fraction = true;
      ++e;
      while (e < n && is_digit(text[e])) ++e;
    }
    i = e;
    char prev = b > 0 ? text[b - 1] : ' ';
    char next = e < n ? text[e] : ' ';
    if (is_alpha(prev) || is_digit(prev) || prev == '_' || prev == '^' || prev == '\\' || prev == '/' || prev == '.' ||
        (c == '-' && prev == '-'))
      continue;  // part of a name, a script, a version or a longer token
    if (is_alpha(next) && !unit_follows(text, e)) continue;  // "2x", "3rd"; but "12m", "5kg"
    if (next == '_' || next == '^' || next == ':' || next == '/' || next == '$') continue;
    if (next == '.' && e + 1 < n && is_digit(text[e + 1])) continue;  // "1.2.3"
    // A list or step label: at the start of its line, followed by "." or ")" and more text.
    {
      size_t ls = b;
      while (ls > 0 && text[ls - 1] != '\n' && (is_space(text[ls - 1]) || text[ls - 1] == '*' || text[ls - 1] == '#' || text[ls - 1] == '('))
        --ls;
      bool line_start = ls == 0 || text[ls - 1] == '\n';
      if (line_start && (next == '.' || next == ')') && e + 1 < n && is_space(text[e + 1]) && e + 2 < n &&
          text[e + 2] != '\n' && !is_space(text[e + 2]))
        continue;
    }
    if (is_label_word(lower_word_before(text, b))) continue;
    ProseNumber p;
    p.begin = b;
    p.end = e;
    p.sentence = sentence;
    std::string word = lower_word_before(text, b);
    size_t k = b;
    while (k > 0 && is_space(text[k - 1])) --k;
    p.approximate = is_approx_word(word) || (k > 0 && text[k - 1] == '~') ||
                    (k >= 2 && text.compare(k - 2, 2, "\xe2\x89") == 0) /* tail of U+2248 */ ||
                    (k >= 3 && text.compare(k - 3, 3, "\xe2\x89\x88") == 0);
    if (fraction) {
      p.value = std::string(text.substr(b, e - b));
    } else {
      auto v = normalize_number(text.substr(b, j - b));
      if (!v) continue;
      p.value = *v;
    }
    if (next == '%' || text.compare(e, 2, "\\%") == 0) p.value += "\\%";
    out.push_back(std::move(p));
  }
  return out;
}

size_t sentence_start(std::string_view text, size_t pos) {
  size_t from = std::min(pos, text.size());
  while (from > 0 && text[from - 1] != '\n' &&
         !(from >= 2 && (text[from - 2] == '.' || text[from - 2] == '!' || text[from - 2] == '?') && is_space(text[from - 1])))
    --from;
  return from;
}

bool says_no_answer(std::string_view text) {
  std::string t = to_lower(text);
  static const char* phrases[] = {"no solution", "no real solution", "no such", "no answer", "does not exist",
                                  "doesn't exist", "do not exist", "not possible", "cannot be determined",
                                  "can't be determined", "no valid", "not enough information",
                                  "none of the", "no possible", "no values", "no real number"};
  for (const char* p : phrases)
    if (t.find(p) != std::string::npos) return true;
  return false;
}

ProseAnswer last_prose_number(std::string_view text, const std::vector<MathSpan>& spans) {
  ProseAnswer out;
  std::vector<ProseNumber> nums = prose_numbers(text, spans);
  const ProseNumber* last = nullptr;
  size_t idx = 0;
  for (size_t k = nums.size(); k-- > 0;)
    if (!nums[k].approximate) {
      last = &nums[k];
      idx = k;
      break;
    }
  if (!last) {
    out.reason = nums.empty() ? "no standalone number outside math and LaTeX commands"
                              : "the only standalone numbers are approximations";
    return out;
  }
  // Listed with its neighbours in the same sentence ("12 and 18", "3, 4 or 5"): never one number, but the
  // whole list as one set (right for "the roots are -1 and 3", wrong against any single gold).
  auto listed = [&](size_t a, size_t b) {
    if (nums[a].sentence != nums[b].sentence || nums[a].end > nums[b].begin) return false;
    return is_list_connector(text.substr(nums[a].end, nums[b].begin - nums[a].end));
  };
  size_t lo = idx, hi = idx;
  while (lo > 0 && idx - lo < 32 && listed(lo - 1, lo)) --lo;
  while (hi + 1 < nums.size() && hi - idx < 32 && listed(hi, hi + 1)) ++hi;
  ProseNumber chosen = *last;
  if (hi > lo) {
    chosen.begin = nums[lo].begin;
    chosen.end = nums[hi].end;
    chosen.value.clear();
    for (size_t k = lo; k <= hi; ++k) chosen.value += (k == lo ? "" : ", ") + nums[k].value;
  }
  // The sentence of the number and everything after it must not say that there is no answer.
  if (says_no_answer(text.substr(sentence_start(text, last->begin)))) {
    out.reason = "the text around the last number says there is no answer";
    return out;
  }
  out.number = chosen;
  out.reason = hi > lo ? "the last sentence lists " + std::to_string(hi - lo + 1) + " numbers: one set (fallback)"
                       : "last standalone number in the prose (fallback)";
  return out;
}

}  // namespace hb::suites::math
