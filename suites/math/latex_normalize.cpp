#include "suites/math/latex_normalize.h"

#include <cctype>
#include <set>

#include "harness/base/strings.h"

namespace hb::suites::math {
namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Removes "\name" only where the command name ends (so \left does not eat \leftarrow).
void remove_command(std::string& s, std::string_view name, std::string_view with = "") {
  std::string out;
  out.reserve(s.size());
  std::string pat = "\\" + std::string(name);
  size_t i = 0;
  while (i < s.size()) {
    if (s.compare(i, pat.size(), pat) == 0 && (i + pat.size() >= s.size() || !is_alpha(s[i + pat.size()]) ||
                                               !is_alpha(pat.back()))) {
      out += with;
      i += pat.size();
    } else {
      out += s[i++];
    }
  }
  s = std::move(out);
}

const std::set<std::string>& unit_words() {
  static const std::set<std::string> words = {
      "cm",      "mm",      "km",     "m",      "meter",   "meters",  "metre",   "metres", "centimeters", "inch",
      "inches",  "in",      "ft",     "foot",   "feet",    "yard",    "yards",   "mile",   "miles",    "mph",
      "units",   "unit",    "sq",     "square", "cubic",   "degrees", "degree",  "deg",    "radians",  "cents",
      "cent",    "dollars", "dollar", "hours",  "hour",    "hrs",     "minutes", "minute", "min",      "seconds",
      "second",  "sec",     "days",   "day",    "weeks",   "week",    "years",   "year",   "grams",    "gram",
      "kg",      "g",       "pounds", "pound",  "lbs",     "ounces",  "liters",  "liter",  "litres",   "ml",
      "people",  "students", "ways",  "times",  "marbles", "apples",  "pages",   "percent", "points",  "p.m.",
      "a.m.",    "am",      "pm"};
  return words;
}

// Drops unit words (and a following ^2 / ^{3}) that follow a number, e.g. "864 inches^2" -> "864".
std::string drop_units(const std::string& s) {
  bool has_digit = false;
  for (char c : s) has_digit = has_digit || std::isdigit((unsigned char)c);
  if (!has_digit) return s;
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    if (is_alpha(s[i]) && (i == 0 || (s[i - 1] != '\\' && !is_alpha(s[i - 1])))) {
      size_t j = i;
      while (j < s.size() && is_alpha(s[j])) ++j;
      std::string word = to_lower(s.substr(i, j - i));
      // Only words of two letters or more, and "m"/"g" only when they stand after a space.
      bool unit = unit_words().count(word) && (word.size() >= 2 || (i > 0 && s[i - 1] == ' '));
      // A unit must follow something numeric (digit, brace, space after a digit).
      size_t k = out.size();
      while (k > 0 && out[k - 1] == ' ') --k;
      bool after_value = k > 0 && (std::isdigit((unsigned char)out[k - 1]) || out[k - 1] == '}' || out[k - 1] == ')' ||
                                   is_alpha(out[k - 1]));
      if (unit && after_value) {
        size_t e = j;
        while (e < s.size() && s[e] == ' ') ++e;
        if (e < s.size() && s[e] != '^') e = j;
        if (e < s.size() && s[e] == '^') {
          if (e + 1 < s.size() && (s[e + 1] == '2' || s[e + 1] == '3')) e += 2;
          else if (s.compare(e + 1, 3, "{2}") == 0 || s.compare(e + 1, 3, "{3}") == 0) e += 4;
        }
        i = e;
        continue;
      }
      out += s.substr(i, j - i);
      i = j;
      continue;
    }
    out += s[i++];
  }
  return out;
}

}  // namespace

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (true) {
    size_t p = s.find(from, i);
    if (p == std::string::npos) break;
    out.append(s, i, p - i);
    out += to;
    i = p + from.size();
  }
  out.append(s, i, std::string::npos);
  s = std::move(out);
}

std::string unwrap_command(std::string_view s_in, std::string_view command) {
  std::string s(s_in);
  std::string pat = "\\" + std::string(command);
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    size_t p = s.find(pat, i);
    if (p == std::string::npos) break;
    size_t q = p + pat.size();
    if (q < s.size() && is_alpha(s[q])) {  // \textbf when looking for \text
      out.append(s, i, q - i);
      i = q;
      continue;
    }
    size_t b = q;
    while (b < s.size() && s[b] == ' ') ++b;
    out.append(s, i, p - i);
    if (b >= s.size() || s[b] != '{') {
      i = q;
      continue;
    }
    int depth = 0;
    size_t e = b;
    for (; e < s.size(); ++e) {
      if (s[e] == '{') ++depth;
      else if (s[e] == '}' && --depth == 0) break;
    }
    if (e >= s.size()) {  // unbalanced: keep the rest as it is
      out.append(s, b + 1, std::string::npos);
      return out;
    }
    out += ' ';
    out.append(s, b + 1, e - b - 1);
    out += ' ';
    i = e + 1;
  }
  out.append(s, i, std::string::npos);
  return out;
}

NormalizedAnswer normalize_latex(std::string_view answer) {
  NormalizedAnswer out;
  std::string s(trim(answer));
  // Unicode look-alikes.
  static const std::pair<const char*, const char*> unicode[] = {
      {"\u2212", "-"},       {"\u2013", "-"},       {"\u00d7", "\\times "}, {"\u00b7", "\\cdot "}, {"\u03c0", "\\pi "},
      {"\u221e", "\\infty "}, {"\u221a", "\\sqrt"},  {"\u00b0", ""},         {"\u2264", "\\le "},   {"\u2265", "\\ge "},
      {"\u00b1", "\\pm "},   {"\u222a", "\\cup "},  {"\u00a0", " "},        {"\u2009", " "}};
  for (const auto& [from, to] : unicode) replace_all(s, from, to);
  // Protect the row separator "\\\\" from the "\\ " spacing rule below.
  replace_all(s, "\\\\", "\x01");
  replace_all(s, "\\$", "");
  replace_all(s, "$", "");
  for (const char* c : {"displaystyle", "textstyle", "left.", "right.", "bigl", "bigr", "Bigl", "Bigr", "big", "Big",
                        "left", "right"})
    remove_command(s, c);
  // ",\!" is LaTeX's thousands separator: "11,\! 111" -> "11,111".
  replace_all(s, ",\\! ", ",");
  replace_all(s, "\\!", "");
  for (const char* c : {"\\,", "\\;", "\\:", "\\ "}) replace_all(s, c, " ");
  remove_command(s, "qquad", " ");
  remove_command(s, "quad", " ");
  replace_all(s, "~", " ");
  for (const char* c : {"dfrac", "tfrac", "cfrac"}) remove_command(s, c, "\\frac");
  remove_command(s, "leq", "\\le");
  remove_command(s, "geq", "\\ge");
  remove_command(s, "neq", "\\ne");
  replace_all(s, "**", "^");  // Python-style powers in plain-text answers
  for (const char* c : {"^{\\circ}", "^{\\circ }", "^\\circ", "{}^\\circ"}) replace_all(s, c, "");
  remove_command(s, "circ");
  remove_command(s, "degree");
  out.had_percent = s.find('%') != std::string::npos;
  replace_all(s, "\\%", "");
  replace_all(s, "%", "");
  replace_all(s, "{,}", "");
  // A whole-answer \text{...} is a word answer ("Evelyn", "(C)").
  {
    std::string t(trim(s));
    for (const char* cmd : {"\\text{", "\\textbf{", "\\mbox{", "\\textrm{", "\\mathrm{"}) {
      size_t n = std::char_traits<char>::length(cmd);
      if (t.compare(0, n, cmd) == 0 && !t.empty() && t.back() == '}') {
        int depth = 0;
        size_t e = n - 1;
        for (; e < t.size(); ++e) {
          if (t[e] == '{') ++depth;
          else if (t[e] == '}' && --depth == 0) break;
        }
        if (e == t.size() - 1) out.was_text = true;
      }
    }
  }
  for (const char* c : {"boxed", "fbox", "textbf", "textit", "textrm", "text", "mbox", "mathrm", "mathbf", "mathit",
                        "mathsf", "hbox", "emph"})
    s = unwrap_command(s, c);
  s = drop_units(s);
  // "x \in [a, b]" -> "[a, b]"
  {
    std::string t(trim(s));
    if (t.size() > 4 && is_alpha(t[0])) {
      size_t p = 1;
      while (p < t.size() && t[p] == ' ') ++p;
      if (t.compare(p, 3, "\\in") == 0 && (p + 3 >= t.size() || !is_alpha(t[p + 3]))) s = t.substr(p + 3);
    }
  }
  replace_all(s, " and ", ", ");
  // Trailing periods and line breaks.
  std::string t(trim(s));
  while (!t.empty() && (t.back() == '.' || t.back() == '\\' || t.back() == ' ' || t.back() == '\x01')) {
    if (t.back() == '.' && t.size() >= 2 && t[t.size() - 2] == '.') break;  // keep "..."
    t.pop_back();
  }
  // Collapse runs of spaces.
  std::string c;
  for (char ch : t) {
    if ((ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r')) {
      if (!c.empty() && c.back() != ' ') c += ' ';
    } else {
      c += ch;
    }
  }
  replace_all(c, "\x01", "\\\\");
  out.text = std::string(trim(c));
  return out;
}

}  // namespace hb::suites::math
