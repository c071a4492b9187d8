#include "suites/common/choice_extract.h"

#include <cctype>

#include "harness/base/strings.h"
#include "suites/math/math_extract.h"

namespace hb::suites {
namespace {

bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }

// Skips markup between an anchor and the letter: spaces, '*', '$', ':', '(', '[', '\text{', '\textbf{', '{'.
size_t skip_markup(std::string_view s, size_t i) {
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == '*' || c == '$' || c == ':' || c == '(' || c == '[' || c == '{' || c == '_' || c == '\t') {
      ++i;
      continue;
    }
    if (c == '\\') {
      size_t j = i + 1;
      while (j < s.size() && is_alpha(s[j])) ++j;
      std::string_view cmd = s.substr(i + 1, j - i - 1);
      if (cmd == "text" || cmd == "textbf" || cmd == "boxed" || cmd == "mathrm" || cmd == "mathbf") {
        i = j;
        continue;
      }
    }
    break;
  }
  return i;
}

// The letter at i if it is a valid choice standing alone (not the start of a word).
char letter_at(std::string_view s, size_t i, std::string_view letters) {
  if (i >= s.size()) return 0;
  char c = s[i];
  if (letters.find(c) == std::string_view::npos) return 0;
  if (i + 1 < s.size() && is_alpha(s[i + 1])) return 0;
  return c;
}

Extraction make(const char* name, char letter, std::string reason) {
  Extraction e;
  e.name = name;
  if (letter) e.value = std::string(1, letter);
  e.reason = std::move(reason);
  return e;
}

// A choice named in prose at i: "(B)", "option B", "choice B", "letter B", "**B**", "B is correct". Returns the
// letter or 0; next is set past the mention.
char mention_at(std::string_view s, const std::string& lower, size_t i, std::string_view letters) {
  auto standalone = [&](size_t k) {
    return k < s.size() && letters.find(s[k]) != std::string_view::npos && (k + 1 >= s.size() || !is_alpha(s[k + 1])) &&
           (k == 0 || !is_alpha(s[k - 1]));
  };
  if (s[i] == '(' && standalone(i + 1) && i + 2 < s.size() && s[i + 2] == ')') return s[i + 1];
  if (s.compare(i, 2, "**") == 0 && standalone(i + 2) && s.compare(i + 3, 2, "**") == 0) return s[i + 2];
  for (const char* word : {"option ", "choice ", "letter "}) {
    size_t n = std::char_traits<char>::length(word);
    if (lower.compare(i, n, word) == 0 && (i == 0 || !is_alpha(s[i - 1]))) {
      size_t k = i + n;
      if (lower.compare(k, 3, "is ") == 0) k += 3;  // "the correct option is C"
      if (k < s.size() && s[k] == '(') ++k;
      if (standalone(k)) return s[k];
    }
  }
  if (standalone(i) && (lower.compare(i + 1, 14, " is the correct") == 0 || lower.compare(i + 1, 11, " is correct") == 0 ||
                        lower.compare(i + 1, 13, " is the right") == 0 || lower.compare(i + 1, 13, " is the answe") == 0))
    return s[i];
  return 0;
}

Extraction choice_in_prose(std::string_view text, std::string_view letters) {
  std::string_view t = trim(text);
  size_t para = t.rfind("\n\n");
  std::string_view last = para == std::string_view::npos ? t : t.substr(para + 2);
  if (last.size() > 2000) last = last.substr(last.size() - 2000);
  std::string lower = to_lower(last);
  // Sentences of the final paragraph, from the end: the first that names a choice decides.
  size_t end = last.size();
  while (end > 0) {
    size_t begin = end;
    while (begin > 0 && !((last[begin - 1] == '.' || last[begin - 1] == '!' || last[begin - 1] == '?' || last[begin - 1] == '\n') &&
                          (begin == end || last[begin] == ' ' || last[begin] == '\n')))
      --begin;
    std::string found;
    for (size_t i = begin; i < end; ++i) {
      char c = mention_at(last, lower, i, letters);
      if (c && found.find(c) == std::string::npos) found += c;
    }
    if (found.size() == 1) return make("prose", found[0], "the last sentence naming a choice names only (" + found + ")");
    if (found.size() > 1) return make("prose", 0, "the last sentence naming a choice names several (" + found + ")");
    end = begin > 0 ? begin - 1 : 0;
  }
  return make("prose", 0, "no choice named in the final paragraph");
}

}  // namespace

std::vector<Extraction> extract_choice(std::string_view text, std::string_view letters) {
  std::vector<Extraction> out;
  // answer_line: scan every "answer" (case-insensitive) and keep the last one followed by a valid letter.
  {
    std::string lower = to_lower(text);
    char found = 0;
    size_t pos = 0;
    while ((pos = lower.find("answer", pos)) != std::string::npos) {
      size_t i = pos + 6;
      bool lower_anchor_modal = false;
      // "answer:" / "answer is" / "answer would be" / "answer: the answer is"
      size_t j = skip_markup(text, i);
      if (j < text.size() && (text[j] == 'i' || text[j] == 'I') && j + 1 < text.size() && (text[j + 1] == 's' || text[j + 1] == 'S') &&
          (j + 2 >= text.size() || !is_alpha(text[j + 2])))
        j = skip_markup(text, j + 2);
      // "answer would be X" / "should be" / "must be" / "will be"
      for (const char* modal : {"would be", "should be", "must be", "will be"}) {
        size_t m = skip_markup(text, i);
        if (lower.compare(m, std::char_traits<char>::length(modal), modal) == 0) {
          j = skip_markup(text, m + std::char_traits<char>::length(modal));
          lower_anchor_modal = true;
        }
      }
      bool anchored = lower_anchor_modal || (j > i && (text.substr(i, j - i).find(':') != std::string_view::npos ||
                                lower.compare(i, 4, " is ") == 0 || lower.compare(i, 3, "is ") == 0 ||
                                lower.compare(i, 4, ":** ") == 0));
      if (anchored) {
        char c = letter_at(text, j, letters);
        if (c) found = c;
      }
      pos += 6;
    }
    out.push_back(make("answer_line", found, found ? "last 'Answer: X'" : "no 'Answer: X' with a valid letter"));
  }
  {
    std::string why;
    auto boxed = math::last_boxed(text, &why);
    char found = 0;
    if (boxed) {
      std::string_view b = *boxed;
      size_t i = skip_markup(b, 0);
      char c = letter_at(b, i, letters);
      // The rest may only be markup: "}", ")", spaces.
      bool clean = c != 0;
      for (size_t k = i + 1; clean && k < b.size(); ++k) clean = b[k] == '}' || b[k] == ')' || b[k] == ' ' || b[k] == '.';
      if (clean) found = c;
    }
    out.push_back(make("boxed", found, found ? "last \\boxed{X}" : (boxed ? "\\boxed{} does not hold a lone choice letter" : why)));
  }
  {
    std::string_view s = trim(text);
    size_t nl = s.rfind('\n');
    std::string_view last = trim(nl == std::string_view::npos ? s : s.substr(nl + 1));
    size_t i = skip_markup(last, 0);
    char c = letter_at(last, i, letters);
    bool clean = c != 0;
    for (size_t k = i + 1; clean && k < last.size(); ++k)
      clean = last[k] == ')' || last[k] == '.' || last[k] == '*' || last[k] == ' ' || last[k] == '$' || last[k] == '}' || last[k] == ']';
    out.push_back(make("final_line", clean ? c : 0, clean ? "the last line is only the letter" : "the last line is not a lone letter"));
  }
  out.push_back(choice_in_prose(text, letters));
  return out;
}

bool is_explicit_choice(std::string_view name) { return name == "answer_line" || name == "boxed"; }

}  // namespace hb::suites
