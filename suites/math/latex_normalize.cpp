#include "suites/math/latex_normalize.h"

#include <cctype>
#include <set>

#include "harness/base/strings.h"

namespace hb::suites::math {
namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Removes "\name" only where the command name ends (so \left does not eat \leftarrow). Searches with find:
// normalisation calls this some twenty times per answer, and most answers hold none of the commands.
void remove_command(std::string& s, std::string_view name, std::string_view with = "") {
  const std::string pat = "\\" + std::string(name);
  size_t p = s.find(pat);
  if (p == std::string::npos) return;
  const bool needs_end = is_alpha(pat.back());
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  for (; p != std::string::npos; p = s.find(pat, i)) {
    size_t end = p + pat.size();
    if (!needs_end || end >= s.size() || !is_alpha(s[end])) {
      out.append(s, i, p - i);
      out += with;
      i = end;
    } else {
      out.append(s, i, p + 1 - i);
      i = p + 1;
    }
  }
  out.append(s, i, std::string::npos);
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

// Words after a value ("12 square units", "7 ways", "3 dogs"): dropped when the rest holds a digit and the
// words are plain (letters only, at least two of them per word, after a space).
std::string drop_trailing_words(const std::string& s) {
  size_t e = s.size();
  while (e > 0 && s[e - 1] == ' ') --e;
  size_t b = e;
  while (b > 0 && (is_alpha(s[b - 1]) || s[b - 1] == ' ')) --b;
  if (b == e || b == 0) return s;
  std::string_view words = std::string_view(s).substr(b, e - b);
  if (words[0] != ' ' || (b > 0 && s[b - 1] == '\\')) return s;
  for (const auto& w : split(trim(words), ' '))
    if (!w.empty() && w.size() < 3) return s;
  std::string head = s.substr(0, b);
  bool digit = false;
  for (char c : head) digit = digit || std::isdigit(static_cast<unsigned char>(c));
  // The value must end like a value: a digit, a closing bracket or brace, or a constant such as \pi.
  size_t k = head.size();
  while (k > 0 && head[k - 1] == ' ') --k;
  if (!digit || k == 0) return s;
  char last = head[k - 1];
  if (!(std::isdigit(static_cast<unsigned char>(last)) || last == '}' || last == ')' || last == ']' || ends_with(head.substr(0, k), "\\pi")))
    return s;
  return head.substr(0, k);
}

// Digit groups separated by single spaces ("1 000 000", from "1\,000\,000" too) are one number.
std::string join_digit_groups(const std::string& s) {
  std::string out;
  size_t i = 0;
  const size_t n = s.size();
  auto digit = [&](size_t k) { return k < n && std::isdigit(static_cast<unsigned char>(s[k])); };
  while (i < n) {
    if (digit(i) && (i == 0 || (!digit(i - 1) && s[i - 1] != '.'))) {
      size_t j = i;
      while (digit(j)) ++j;
      size_t lead = j - i;
      size_t e = j;
      int groups = 0;
      while (lead <= 3 && e + 4 <= n && s[e] == ' ' && digit(e + 1) && digit(e + 2) && digit(e + 3) && !digit(e + 4) &&
             (e + 4 == n || s[e + 4] != '/'))
        e += 4, ++groups;
      if (groups > 0) {
        for (size_t k = i; k < e; ++k)
          if (s[k] != ' ') out += s[k];
        i = e;
        continue;
      }
      out.append(s, i, j - i);
      i = j;
      continue;
    }
    out += s[i++];
  }
  return out;
}

// "1 1/2" (from "1\ 1/2") is the mixed number 1\frac{1}{2} when the fraction is proper.
std::string mixed_number(const std::string& s) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  size_t a = i;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  if (i == a || i >= s.size() || s[i] != ' ') return s;
  size_t nb = ++i;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  if (i == nb || i >= s.size() || s[i] != '/') return s;
  size_t db = ++i;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  if (i == db || i != s.size() || i - db > 18 || db - 1 - nb > 18) return s;
  unsigned long long num = std::stoull(s.substr(nb, db - 1 - nb)), den = std::stoull(s.substr(db));
  if (num == 0 || den == 0 || num >= den) return s;
  return s.substr(0, nb - 1) + "\\frac{" + std::to_string(num) + "}{" + std::to_string(den) + "}";
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
      {"\u00b1", "\\pm "},   {"\u222a", "\\cup "},  {"\u00a0", " "},        {"\u2009", " "},
      {"\u202f", " "},       {"\u2248", "\\approx "}, {"\u2260", "\\ne "},   {"\u211d", "\\mathbb{R}"}};
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
  // Congruences: "\\equiv 4 \\pmod{7}" is the value 4; an aligned chain "a &\\equiv b \\\\ &\\equiv c" is a = b = c.
  if (s.find("\\begin{") == std::string::npos) {
    replace_all(s, "&", " ");
    replace_all(s, "\x01", " ");
  }
  remove_command(s, "equiv", "=");
  for (const char* mod : {"\\pmod", "\\bmod", "\\mod"}) {
    size_t p = s.find(mod);
    if (p == std::string::npos) continue;
    size_t b = p;
    if (b > 0 && s[b - 1] == '(') --b;  // "(\\bmod 7)"
    s = s.substr(0, b);
  }
  // The real line written as a named set.
  for (const char* reals : {"\\mathbb{R}", "\\mathbb R", "\\Bbb{R}", "\\R"}) {
    size_t n = std::char_traits<char>::length(reals);
    for (size_t p = s.find(reals); p != std::string::npos; p = s.find(reals, p + 1)) {
      if (p + n < s.size() && is_alpha(s[p + n])) continue;
      s.replace(p, n, "(-\\infty,\\infty)");
    }
  }
  {
    std::string low = to_lower(trim(s));
    if (low == "all real numbers" || low == "all reals" || low == "the real numbers" || low == "all real x" ||
        low == "all real values")
      s = "(-\\infty,\\infty)", out.was_text = false;
  }
  s = drop_trailing_words(s);
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
  c = join_digit_groups(std::string(trim(c)));
  out.text = mixed_number(c);
  return out;
}

}  // namespace hb::suites::math
