#include "suites/math/math_answer.h"

#include <cctype>

#include "harness/base/strings.h"
#include "suites/math/inequality_interval.h"
#include "suites/math/latex_normalize.h"
#include "suites/math/top_level_split.h"

namespace hb::suites::math {
namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

std::vector<std::string> split_top(std::string_view s, std::string_view sep) {
  return split_top_level(s, {std::string(sep)});
}

// True when the bracket at 0 closes exactly at the end (so "(1,2)" but not "(1)(2)").
bool wraps_whole(std::string_view s, size_t open_len, size_t close_len) {
  int depth = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\' && i + 1 < s.size() && (s[i + 1] == '{' || s[i + 1] == '}')) {
      depth += s[i + 1] == '{' ? 1 : -1;
      ++i;
      if (depth == 0 && i + 1 < s.size()) return false;
      continue;
    }
    if (c == '(' || c == '[' || c == '{') ++depth;
    else if (c == ')' || c == ']' || c == '}') {
      if (--depth == 0 && i + 1 < s.size()) return false;
    }
  }
  return depth == 0;
}

bool is_thousands_number(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  size_t lead = 0;
  while (i < s.size() && std::isdigit((unsigned char)s[i])) ++i, ++lead;
  if (lead < 1 || lead > 3) return false;
  int groups = 0;
  while (i < s.size() && s[i] == ',') {
    ++i;
    size_t d = 0;
    while (i < s.size() && std::isdigit((unsigned char)s[i])) ++i, ++d;
    if (d != 3) return false;
    ++groups;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t d = 0;
    while (i < s.size() && std::isdigit((unsigned char)s[i])) ++i, ++d;
    if (d == 0) return false;
  }
  return groups > 0 && i == s.size();
}

// A run of three or more letters outside a command marks a word answer.
bool looks_like_words(std::string_view s) {
  size_t run = 0;
  bool in_command = false;
  for (char c : s) {
    if (c == '\\') {
      in_command = true;
      run = 0;
      continue;
    }
    if (is_alpha(c)) {
      if (!in_command && ++run >= 3) return true;
    } else {
      in_command = false;
      run = 0;
    }
  }
  return false;
}

AnswerValue make_text(std::string_view s) {
  AnswerValue v;
  v.kind = AnswerValue::Kind::text;
  v.text = std::string(s);
  return v;
}

}  // namespace

const char* kind_name(AnswerValue::Kind kind) {
  switch (kind) {
    case AnswerValue::Kind::expr: return "expression";
    case AnswerValue::Kind::text: return "text";
    case AnswerValue::Kind::tuple: return "tuple";
    case AnswerValue::Kind::set: return "set";
    case AnswerValue::Kind::matrix: return "matrix";
    case AnswerValue::Kind::equation: return "equation";
  }
  return "?";
}

AnswerValue parse_answer(std::string_view in, bool was_text, int depth) {
  std::string s(trim(in));
  if (depth > 8) return make_text(s);
  if (was_text || s.empty()) return make_text(s);
  // "{(15,-29)}", "{350}": braces around the whole answer group nothing.
  while (s.size() >= 2 && s[0] == '{' && s.back() == '}' && wraps_whole(s, 1, 1)) s = std::string(trim(s.substr(1, s.size() - 2)));
  if (s.empty()) return make_text(s);

  // Matrices.
  for (const char* env : {"pmatrix", "bmatrix", "matrix", "vmatrix"}) {
    std::string begin = std::string("\\begin{") + env + "}";
    std::string end = std::string("\\end{") + env + "}";
    if (starts_with(s, begin) && ends_with(s, end)) {
      std::string body = s.substr(begin.size(), s.size() - begin.size() - end.size());
      AnswerValue m;
      m.kind = AnswerValue::Kind::matrix;
      m.text = s;
      auto rows = split_top(body, "\\\\");
      if (!rows.empty() && rows.back().empty()) rows.pop_back();
      if (rows.size() > 64) return make_text(s);
      for (const auto& r : rows) {
        auto cells = split_top(r, "&");
        if (m.cols == 0) m.cols = cells.size();
        if (cells.size() != m.cols) return make_text(s);
        for (const auto& c : cells) m.items.push_back(parse_answer(c, false, depth + 1));
      }
      m.rows = rows.size();
      return m;
    }
  }

  // Inequalities and set-builder sets become intervals ("x \\ge 5" -> "[5,\\infty)").
  if (auto interval = inequality_as_interval(s)) {
    AnswerValue v = parse_answer(*interval, false, depth + 1);
    return v;
  }

  // Unions of intervals are unordered sets of intervals.
  auto unions = split_top(s, "\\cup");
  if (unions.size() > 1) {
    AnswerValue u;
    u.kind = AnswerValue::Kind::set;
    u.text = s;
    for (const auto& p : unions) u.items.push_back(parse_answer(p, false, depth + 1));
    return u;
  }

  // Explicit sets \{...\}.
  if (starts_with(s, "\\{") && ends_with(s, "\\}") && wraps_whole(s, 2, 2)) {
    AnswerValue set;
    set.kind = AnswerValue::Kind::set;
    set.text = s;
    std::string body = s.substr(2, s.size() - 4);
    for (const auto& p : split_top(body, ",")) {
      AnswerValue item = parse_answer(p, false, depth + 1);
      if (item.kind == AnswerValue::Kind::set && item.text.find("\\pm") != std::string::npos) {
        for (auto& x : item.items) set.items.push_back(std::move(x));
      } else {
        set.items.push_back(std::move(item));
      }
    }
    return set;
  }

  if (is_thousands_number(s)) {
    std::string digits;
    for (char c : s)
      if (c != ',') digits += c;
    return parse_answer(digits, false, depth + 1);
  }

  // Tuples and intervals keep their bracket types.
  if (s.size() >= 2 && (s[0] == '(' || s[0] == '[') && (s.back() == ')' || s.back() == ']') && wraps_whole(s, 1, 1)) {
    auto parts = split_top(std::string_view(s).substr(1, s.size() - 2), ",");
    if (parts.size() >= 2) {
      AnswerValue t;
      t.kind = AnswerValue::Kind::tuple;
      t.text = s;
      t.open = s[0];
      t.close = s.back();
      for (const auto& p : parts) t.items.push_back(parse_answer(p, false, depth + 1));
      return t;
    }
  }

  // A bare list "1, -2" or "3, 5, 7" is the list of all solutions: unordered.
  auto commas = split_top(s, ",");
  if (commas.size() >= 2) {
    AnswerValue set;
    set.kind = AnswerValue::Kind::set;
    set.text = s;
    for (const auto& p : commas) {
      AnswerValue item = parse_answer(p, false, depth + 1);
      if (item.kind == AnswerValue::Kind::set && item.text.find("\\pm") != std::string::npos) {
        for (auto& x : item.items) set.items.push_back(std::move(x));
      } else {
        set.items.push_back(std::move(item));
      }
    }
    return set;
  }

  // Equations (one '=' at top level).
  auto sides = split_top(s, "=");
  if (sides.size() == 2 && !sides[0].empty() && !sides[1].empty()) {
    AnswerValue eq;
    eq.kind = AnswerValue::Kind::equation;
    eq.text = s;
    eq.items.push_back(parse_answer(sides[0], false, depth + 1));
    eq.items.push_back(parse_answer(sides[1], false, depth + 1));
    return eq;
  }
  // "x = y = 5": the last part, unless it only names the result ("36 - 19 = 17 = x").
  if (sides.size() > 2) {
    size_t k = sides.size() - 1;
    while (k > 0 && sides[k].size() <= 5 && !sides[k].empty() && is_alpha(sides[k][0]) &&
           sides[k].find_first_of("0123456789") == std::string::npos)
      --k;
    return parse_answer(sides[k], false, depth + 1);
  }

  // a \pm b -> {a + b, a - b}
  size_t pm = s.find("\\pm");
  if (pm != std::string::npos && s.find("\\pm", pm + 3) == std::string::npos) {
    AnswerValue set;
    set.kind = AnswerValue::Kind::set;
    set.text = s;
    std::string plus = s, minus = s;
    plus.replace(pm, 3, "+");
    minus.replace(pm, 3, "-");
    set.items.push_back(parse_answer(plus, false, depth + 1));
    set.items.push_back(parse_answer(minus, false, depth + 1));
    return set;
  }

  if (looks_like_words(s)) return make_text(s);

  AnswerValue v;
  v.kind = AnswerValue::Kind::expr;
  v.text = s;
  ParsedExpr p = parse_expression(s);
  v.expr = std::move(p.root);
  v.parse_error = p.error;
  return v;
}

}  // namespace hb::suites::math
