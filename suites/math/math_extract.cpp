#include "suites/math/math_extract.h"

#include <algorithm>
#include <cctype>

#include "harness/base/strings.h"
#include "suites/common/number_normalize.h"

namespace hb::suites::math {
namespace {

constexpr size_t kMaxAnswer = 4000;

size_t rfind_ci(std::string_view text, std::string_view needle, size_t before = std::string_view::npos) {
  if (needle.empty() || text.size() < needle.size()) return std::string_view::npos;
  size_t start = std::min(before == std::string_view::npos ? text.size() : before, text.size() - needle.size() + 1);
  for (size_t i = start; i-- > 0;) {
    if (i + needle.size() > text.size()) continue;
    bool ok = true;
    for (size_t k = 0; k < needle.size() && ok; ++k)
      ok = std::tolower((unsigned char)text[i + k]) == std::tolower((unsigned char)needle[k]);
    if (ok) return i;
  }
  return std::string_view::npos;
}

// Trims "$", spaces and a trailing period or sentence end from a one-line answer.
std::string clean_span(std::string_view s) {
  std::string t(trim(s));
  while (!t.empty() && (t.back() == '.' || t.back() == '$' || t.back() == ' ' || t.back() == '*')) t.pop_back();
  size_t b = 0;
  while (b < t.size() && (t[b] == '$' || t[b] == ' ' || t[b] == '*' || t[b] == ':')) ++b;
  t = t.substr(b);
  // "\( x \)" / "\[ x \]"
  if (starts_with(t, "\\(") || starts_with(t, "\\[")) t = t.substr(2);
  if (ends_with(t, "\\)") || ends_with(t, "\\]")) t = t.substr(0, t.size() - 2);
  return std::string(trim(t));
}

Extraction make(std::string name, std::optional<std::string> value, std::string reason) {
  Extraction e;
  e.name = std::move(name);
  e.value = std::move(value);
  e.reason = std::move(reason);
  return e;
}

}  // namespace

std::optional<std::string> last_boxed(std::string_view text, std::string* why) {
  size_t a = text.rfind("\\boxed");
  size_t b = text.rfind("\\fbox");
  size_t pos = a == std::string_view::npos ? b : (b == std::string_view::npos ? a : std::max(a, b));
  if (pos == std::string_view::npos) {
    if (why) *why = "no \\boxed{} or \\fbox{}";
    return std::nullopt;
  }
  size_t i = pos + (pos == a ? 6 : 5);
  while (i < text.size() && text[i] == ' ') ++i;
  if (i < text.size() && text[i] == '{') {
    int depth = 0;
    for (size_t j = i; j < text.size(); ++j) {
      char c = text[j];
      if (c == '\\' && j + 1 < text.size()) {  // \{ and \} do not count
        ++j;
        continue;
      }
      if (c == '{') ++depth;
      else if (c == '}' && --depth == 0) {
        if (j - i - 1 > kMaxAnswer) {
          if (why) *why = "\\boxed{} content longer than 4000 characters";
          return std::nullopt;
        }
        if (why) *why = "last \\boxed{} of the answer";
        return std::string(trim(text.substr(i + 1, j - i - 1)));
      }
    }
    if (why) *why = "last \\boxed{ is never closed";
    return std::nullopt;
  }
  // "\boxed 5": up to the next space or dollar.
  size_t j = i;
  while (j < text.size() && text[j] != ' ' && text[j] != '$' && text[j] != '\n' && j - i < 100) ++j;
  if (j == i) {
    if (why) *why = "empty \\boxed";
    return std::nullopt;
  }
  if (why) *why = "last \\boxed without braces";
  return std::string(text.substr(i, j - i));
}

std::vector<Extraction> extract_math_answers(std::string_view text) {
  std::vector<Extraction> out;
  {
    std::string why;
    auto v = last_boxed(text, &why);
    out.push_back(make("boxed", v, why));
  }
  {
    size_t p = rfind_ci(text, "final answer is");
    if (p != std::string_view::npos) {
      size_t s = p + 15;
      size_t hope = text.find("I hope it is correct", s);
      size_t eol = text.find('\n', s);
      size_t e = std::min(hope, eol);
      if (e == std::string_view::npos) e = text.size();
      if (e - s > kMaxAnswer) {
        out.push_back(make("minerva", std::nullopt, "'final answer is' span longer than 4000 characters"));
      } else {
        std::string v = clean_span(text.substr(s, e - s));
        if (v.empty()) out.push_back(make("minerva", std::nullopt, "'final answer is' followed by nothing"));
        else out.push_back(make("minerva", v, "last 'The final answer is ...'"));
      }
    } else {
      out.push_back(make("minerva", std::nullopt, "no 'final answer is'"));
    }
  }
  {
    size_t p1 = rfind_ci(text, "answer:");
    size_t p2 = rfind_ci(text, "answer is");
    size_t p = p1 == std::string_view::npos ? p2 : (p2 == std::string_view::npos ? p1 : std::max(p1, p2));
    if (p != std::string_view::npos) {
      size_t s = p + (p == p1 ? 7 : 9);
      size_t e = text.find('\n', s);
      if (e == std::string_view::npos) e = text.size();
      // An answer on the next line ("Answer:\n42").
      if (trim(text.substr(s, e - s)).empty() && e < text.size()) {
        s = e + 1;
        e = text.find('\n', s);
        if (e == std::string_view::npos) e = text.size();
      }
      std::string v = e - s > kMaxAnswer ? std::string() : clean_span(text.substr(s, e - s));
      if (v.empty()) out.push_back(make("answer_line", std::nullopt, "'answer:' followed by nothing usable"));
      else out.push_back(make("answer_line", v, "last 'answer: ...' line"));
    } else {
      out.push_back(make("answer_line", std::nullopt, "no 'answer:' or 'answer is'"));
    }
  }
  {
    auto n = last_number(text);
    if (n && n->size() > kMaxAnswer) out.push_back(make("last_number", std::nullopt, "last number longer than 4000 digits"));
    else if (n) out.push_back(make("last_number", *n, "last number in the text (fallback)"));
    else out.push_back(make("last_number", std::nullopt, "no number in the text"));
  }
  return out;
}

const Extraction* first_found(const std::vector<Extraction>& extractions) {
  for (const auto& e : extractions)
    if (e.value) return &e;
  return nullptr;
}

}  // namespace hb::suites::math
