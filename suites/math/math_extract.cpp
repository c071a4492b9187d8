#include "suites/math/math_extract.h"

#include <algorithm>
#include <cctype>

#include "harness/base/strings.h"
#include "suites/math/math_equal.h"
#include "suites/math/text_spans.h"

namespace hb::suites::math {
namespace {

constexpr size_t kMaxAnswer = 4000;
constexpr size_t kMaxBoxGap = 160;  // characters between two boxes of one final group
constexpr int kMaxBoxes = 16;

bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

size_t rfind_ci(std::string_view text, std::string_view needle, size_t before) {
  if (needle.empty() || text.size() < needle.size()) return std::string_view::npos;
  size_t start = std::min(before, text.size() - needle.size() + 1);
  for (size_t i = start; i-- > 0;) {
    bool ok = true;
    for (size_t k = 0; k < needle.size() && ok; ++k)
      ok = std::tolower(static_cast<unsigned char>(text[i + k])) == std::tolower(static_cast<unsigned char>(needle[k]));
    if (ok) return i;
  }
  return std::string_view::npos;
}

bool starts_with_ci(std::string_view text, size_t at, std::string_view word) {
  if (at + word.size() > text.size()) return false;
  for (size_t k = 0; k < word.size(); ++k)
    if (std::tolower(static_cast<unsigned char>(text[at + k])) != word[k]) return false;
  return true;
}

// Trims "$", "*", ":" and spaces around a one-line answer, a trailing period, and \( \) / \[ \] wrappers.
std::string clean_span(std::string_view s) {
  std::string t(trim(s));
  while (!t.empty() && (t.back() == '.' || t.back() == '$' || t.back() == ' ' || t.back() == '*' || t.back() == ',')) t.pop_back();
  size_t b = 0;
  while (b < t.size() && (t[b] == '$' || t[b] == ' ' || t[b] == '*' || t[b] == ':')) ++b;
  t = t.substr(b);
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

struct Box {
  size_t start = 0, end = 0;  // the command and its argument: [start, end)
  std::optional<std::string> content;
  std::string why;
};

size_t rfind_box(std::string_view text, size_t before) {
  size_t a = text.rfind("\\boxed", before);
  size_t b = text.rfind("\\fbox", before);
  if (a == std::string_view::npos) return b;
  if (b == std::string_view::npos) return a;
  return std::max(a, b);
}

Box parse_box(std::string_view text, size_t pos) {
  Box box;
  box.start = pos;
  size_t i = pos + (text.compare(pos, 6, "\\boxed") == 0 ? 6 : 5);
  while (i < text.size() && text[i] == ' ') ++i;
  if (i < text.size() && text[i] == '{') {
    int depth = 0;
    for (size_t j = i; j < text.size() && j - i <= kMaxAnswer + 1; ++j) {
      char c = text[j];
      if (c == '\\' && j + 1 < text.size()) {  // \{ and \} do not count
        ++j;
        continue;
      }
      if (c == '{') {
        ++depth;
      } else if (c == '}' && --depth == 0) {
        box.end = j + 1;
        box.content = std::string(trim(text.substr(i + 1, j - i - 1)));
        box.why = "last \\boxed{} of the answer";
        return box;
      }
    }
    box.why = text.size() - i > kMaxAnswer + 1 ? "\\boxed{} content longer than 4000 characters or never closed"
                                                 : "last \\boxed{ is never closed";
    return box;
  }
  // "\boxed 5": up to the next space or dollar.
  size_t j = i;
  while (j < text.size() && text[j] != ' ' && text[j] != '$' && text[j] != '\n' && j - i < 100) ++j;
  if (j == i) {
    box.why = "empty \\boxed";
    return box;
  }
  box.end = j;
  box.content = std::string(text.substr(i, j - i));
  box.why = "last \\boxed without braces";
  return box;
}

Box last_box(std::string_view text) {
  size_t pos = rfind_box(text, std::string_view::npos);
  if (pos != std::string_view::npos) return parse_box(text, pos);
  Box none;
  none.why = "no \\boxed{} or \\fbox{}";
  return none;
}

bool is_filler(std::string_view w) {
  static const char* words[] = {"therefore", "thus", "then", "simply", "just", "exactly", "clearly", "indeed",
                                "equal", "to", "given", "by", "that", "now", "also", "hence", "so", "obviously"};
  for (const char* x : words)
    if (w == x) return true;
  return false;
}

// A first word that shows "answer is ..." is prose, not an answer ("the answer is reasonable").
bool is_prose_start(std::string_view w) {
  static const char* words[] = {"reasonable", "correct", "incorrect", "wrong", "not", "this", "in", "of", "for",
                                "consistent", "valid", "unique", "clear", "different", "independent", "the",
                                "a", "an", "found", "we", "it", "that", "likely", "probably", "right", "close",
                                "positive", "negative", "smaller", "larger", "bigger", "greater", "less", "more"};
  for (const char* x : words)
    if (w == x) return true;
  return false;
}

// Runs of three or more letters outside command names: the words of prose.
int plain_words(std::string_view s) {
  int words = 0;
  size_t run = 0;
  bool command = false;
  for (char c : s) {
    if (c == '\\') {
      command = true;
      run = 0;
    } else if (is_alpha(c)) {
      if (!command && ++run == 3) ++words;
    } else {
      command = false;
      run = 0;
    }
  }
  return words;
}

bool has_words(std::string_view s) { return plain_words(s) > 0; }

// Cuts a plain-text answer at the end of its sentence or at a following clause.
std::string_view cut_sentence(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if ((c == '.' || c == ';' || c == '!' || c == '?') && (i + 1 == s.size() || is_space(s[i + 1]))) return s.substr(0, i);
    if (c == ',' && i + 2 < s.size() && s[i + 1] == ' ') {
      size_t k = i + 2;
      size_t w = k;
      while (w < s.size() && is_alpha(s[w])) ++w;
      std::string word = to_lower(s.substr(k, w - k));
      if (word.size() >= 3 && word != "and") return s.substr(0, i);
    }
    if (c == ' ') {
      for (const char* clause : {" because", " since", " which", " where", " as ", " so ", " for ", " when", " (since", " (because"})
        if (starts_with_ci(s, i, clause)) return s.substr(0, i);
    }
  }
  return s;
}

// The answer that follows a marker at s, or nullopt when what follows is not an answer.
std::optional<std::string> answer_after(std::string_view text, size_t s, std::string* why) {
  size_t j = s;
  auto skip_marks = [&] {
    while (j < text.size() && (text[j] == ' ' || text[j] == '*' || text[j] == ':' || text[j] == '#' || text[j] == '\t'))
      ++j;
  };
  skip_marks();
  // "Final Answer\n\n42": the answer is on one of the next lines.
  for (int lines = 0; lines < 3 && j < text.size() && (text[j] == '\n' || text[j] == '\r'); ++lines) {
    while (j < text.size() && is_space(text[j])) ++j;
    skip_marks();
  }
  // Filler words: "the answer is therefore $5$", "the answer is equal to 7".
  for (int k = 0; k < 4; ++k) {
    size_t w = j;
    while (w < text.size() && is_alpha(text[w])) ++w;
    std::string word = to_lower(text.substr(j, w - j));
    if (word.empty() || !is_filler(word) || w >= text.size() || !(text[w] == ' ' || text[w] == ',' || text[w] == ':')) break;
    j = w;
    while (j < text.size() && (text[j] == ' ' || text[j] == ',' || text[j] == ':')) ++j;
  }
  if (j >= text.size()) {
    *why = "nothing follows the marker";
    return std::nullopt;
  }
  std::string_view rest = text.substr(j, std::min(text.size() - j, kMaxAnswer + 8));
  if (starts_with(rest, "\\boxed") || starts_with(rest, "\\fbox")) {
    Box b = parse_box(text, j);
    if (b.content) return b.content;
  }
  if (rest[0] == '$' || starts_with(rest, "\\(") || starts_with(rest, "\\[")) {
    std::vector<MathSpan> spans = find_math_spans(rest);
    if (!spans.empty() && spans[0].open == 0 && !spans[0].code) {
      // "$2$ or $3$", "$x=1$ and $x=-2$": one set.
      std::string joined(trim(rest.substr(spans[0].begin, spans[0].end - spans[0].begin)));
      size_t prev_close = spans[0].close;
      for (size_t k = 1; k < spans.size() && k < 16; ++k) {
        std::string between = to_lower(trim(rest.substr(prev_close, spans[k].open - prev_close)));
        if (between != "or" && between != "and" && between != "," && between != ", and" && between != ", or") break;
        joined += ", " + std::string(trim(rest.substr(spans[k].begin, spans[k].end - spans[k].begin)));
        prev_close = spans[k].close;
      }
      if (!joined.empty()) return joined;
    }
  }
  size_t eol = rest.find('\n');
  std::string_view line = rest.substr(0, eol);
  size_t hope = line.find("I hope it is correct");
  if (hope != std::string_view::npos) line = line.substr(0, hope);
  // A math span later on the line carries the answer ("is x = $5$ units"); else the sentence.
  std::string v = clean_span(cut_sentence(line));
  if (v.empty()) {
    *why = "the marker is followed by nothing usable";
    return std::nullopt;
  }
  if (plain_words(v) >= 4) {
    *why = "the marker is followed by prose ('" + v.substr(0, 30) + "')";
    return std::nullopt;
  }
  if (is_alpha(v[0]) && v.size() > 1 && is_alpha(v[1])) {
    size_t w = 0;
    while (w < v.size() && is_alpha(v[w])) ++w;
    std::string first = to_lower(v.substr(0, w));
    size_t words = 1;
    for (size_t k = 1; k < v.size(); ++k) words += v[k] == ' ' && v[k - 1] != ' ';
    if (is_prose_start(first) || words > 4) {
      *why = "the marker is followed by prose ('" + v.substr(0, 30) + "')";
      return std::nullopt;
    }
  }
  return v;
}

// True for a math span that only names a variable: "n", "x_1", "\alpha".
bool lone_variable(std::string_view s) {
  std::string_view t = trim(s);
  if (t.size() == 1) return is_alpha(t[0]);
  if (t.size() >= 3 && is_alpha(t[0]) && t[1] == '_' && t.size() <= 5) return true;
  if (!t.empty() && t[0] == '\\') {
    size_t k = 1;
    while (k < t.size() && is_alpha(t[k])) ++k;
    std::string_view name = t.substr(1, k - 1);
    return k == t.size() && name != "infty" && name != "pi" && name != "emptyset" && name != "varnothing";
  }
  return false;
}


// A constant written alone in math mode ("${9}$", "$\\frac{6}{11}$"): no relation and no variable letter.
bool bare_value(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '=' || c == '<' || c == '>') return false;
    if (c == '\\') {
      size_t j = i + 1;
      while (j < s.size() && is_alpha(s[j])) ++j;
      std::string_view cmd = s.substr(i + 1, j - i - 1);
      if (cmd == "le" || cmd == "ge" || cmd == "leq" || cmd == "geq" || cmd == "equiv" || cmd == "approx") return false;
      i = j - 1;
      continue;
    }
    if (is_alpha(c)) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> last_boxed(std::string_view text, std::string* why) {
  Box b = last_box(text);
  if (why) *why = b.why;
  return b.content;
}

std::optional<std::string> final_boxed(std::string_view text, std::string* why) {
  Box last = last_box(text);
  if (!last.content) {
    if (why) *why = last.why;
    return std::nullopt;
  }
  std::vector<Box> group = {last};
  while (static_cast<int>(group.size()) < kMaxBoxes && group.back().start > 0) {
    size_t p = rfind_box(text, group.back().start - 1);
    if (p == std::string_view::npos) break;
    Box prev = parse_box(text, p);
    if (!prev.content) break;
    if (prev.end > group.back().start) {  // \boxed{\boxed{5}}: the outer box holds the inner one
      group.back() = prev;
      continue;
    }
    std::string_view gap = text.substr(prev.end, group.back().start - prev.end);
    if (gap.size() > kMaxBoxGap || gap.find("\n\n") != std::string_view::npos) break;
    group.push_back(prev);
  }
  // The same value boxed twice, maybe in two forms ("\boxed{15\frac{39}{40}}, or \boxed{\frac{639}{40}}"), is
  // one answer (the last form is kept).
  std::vector<std::string> values;
  for (const Box& b : group) {
    bool same = false;
    for (const auto& v : values) same = same || *b.content == v || math_equal(v, *b.content).equal;
    if (!same) values.insert(values.begin(), *b.content);
  }
  if (values.size() == 1) {
    if (why) *why = group.size() == 1 ? last.why : std::to_string(group.size()) + " final boxes with the same content";
    return values[0];
  }
  if (why) *why = std::to_string(values.size()) + " final boxes, graded as one set";
  return join(values, ", ");
}

std::vector<Extraction> extract_math_answers(std::string_view text) {
  std::vector<Extraction> out;
  {
    std::string why;
    auto v = final_boxed(text, &why);
    out.push_back(make("boxed", v, why));
  }
  {
    size_t p = rfind_ci(text, "final answer is", text.size());
    if (p != std::string_view::npos) {
      std::string why;
      auto v = answer_after(text, p + 15, &why);
      if (v) out.push_back(make("minerva", v, "last 'The final answer is ...'"));
      else out.push_back(make("minerva", std::nullopt, "'final answer is': " + why));
    } else {
      out.push_back(make("minerva", std::nullopt, "no 'final answer is'"));
    }
  }
  {
    // Markers from the end: "answer:", "answer is", "answer would be", and a "Final Answer" heading.
    std::optional<std::string> found;
    std::string last_why = "no 'answer:', 'answer is' or 'Final Answer' heading";
    size_t before = text.size();
    for (int tries = 0; tries < 64 && !found; ++tries) {
      size_t p = rfind_ci(text, "answer", before);
      if (p == std::string_view::npos) break;
      before = p;
      size_t s = p + 6;
      if (s < text.size() && is_alpha(text[s])) continue;  // "answered"
      size_t k = s;
      while (k < text.size() && (text[k] == '*' || text[k] == ' ')) ++k;
      bool heading = p >= 6 && starts_with_ci(text, p - 6, "final ") && k < text.size() &&
                     (text[k] == '\n' || text[k] == ':');
      if (k < text.size() && text[k] == ':') s = k + 1;
      else if (starts_with_ci(text, k, "is ") || starts_with_ci(text, k, "is:") || starts_with_ci(text, k, "is\n")) s = k + 2;
      else if (starts_with_ci(text, k, "would be ") || starts_with_ci(text, k, "should be ")) s = k + 8;
      else if (heading) s = k;
      else continue;
      std::string why;
      found = answer_after(text, s, &why);
      if (!found) last_why = "last answer marker: " + why;
    }
    if (found) out.push_back(make("answer_line", found, "last 'answer: ...' / 'answer is ...' / 'Final Answer' line"));
    else out.push_back(make("answer_line", std::nullopt, last_why));
  }
  std::vector<MathSpan> spans = find_math_spans(text);
  ProseAnswer prose = last_prose_number(text, spans);
  {
    const MathSpan* chosen = nullptr;
    int skipped = 0;
    for (size_t k = spans.size(); k-- > 0 && skipped < 4;) {
      std::string_view content = text.substr(spans[k].begin, spans[k].end - spans[k].begin);
      if (spans[k].code) continue;
      if (trim(content).empty() || lone_variable(content)) {
        ++skipped;
        continue;
      }
      chosen = &spans[k];
      break;
    }
    std::string_view whole = trim(text);
    if (!chosen && spans.empty() && !whole.empty() && whole.size() <= 200 && whole.find('\n') == std::string_view::npos &&
        !prose.number && !has_words(whole)) {
      // "-\frac{10}{9}", "x=3": the whole text is one expression written without delimiters.
      out.push_back(make("math_span", std::string(whole), "the whole text is one expression (fallback)"));
    } else if (!chosen) {
      out.push_back(make("math_span", std::nullopt, spans.empty() ? "no complete math span" : "the last math spans only name variables"));
    } else if (chosen->end - chosen->begin > kMaxAnswer) {
      out.push_back(make("math_span", std::nullopt, "last math span longer than 4000 characters"));
    } else if (prose.number && prose.number->begin >= chosen->close &&
               // "there are ${9}$ divisors of 196": a bare value stated in the same sentence outranks it
               !(sentence_start(text, prose.number->begin) <= chosen->open &&
                 bare_value(text.substr(chosen->begin, chosen->end - chosen->begin)))) {
      out.push_back(make("math_span", std::nullopt, "a standalone number in the prose follows the last math span"));
    } else if (says_no_answer(text.substr(sentence_start(text, chosen->open)))) {
      out.push_back(make("math_span", std::nullopt, "the text around the last math span says there is no answer"));
    } else {
      // "The solutions are $x=1$ and $x=2$.": spans joined by "and"/"or"/"," in one sentence are one set.
      std::string value(trim(text.substr(chosen->begin, chosen->end - chosen->begin)));
      int joined = 1;
      for (size_t k = static_cast<size_t>(chosen - spans.data()); k > 0 && joined < 16; --k) {
        const MathSpan& prev = spans[k - 1];
        std::string between = to_lower(trim(text.substr(prev.close, spans[k].open - prev.close)));
        if (prev.code || (between != "and" && between != "or" && between != "," && between != ", and" && between != ", or"))
          break;
        value = std::string(trim(text.substr(prev.begin, prev.end - prev.begin))) + ", " + value;
        ++joined;
      }
      out.push_back(make("math_span", value,
                         joined > 1 ? std::to_string(joined) + " math spans joined by and/or, as one set (fallback)"
                                    : "last complete math span, as a whole (fallback)"));
    }
  }
  if (prose.number) out.push_back(make("last_number", prose.number->value, prose.reason));
  else out.push_back(make("last_number", std::nullopt, prose.reason));
  return out;
}

bool is_explicit_answer(std::string_view name) { return name == "boxed" || name == "minerva" || name == "answer_line"; }

}  // namespace hb::suites::math
