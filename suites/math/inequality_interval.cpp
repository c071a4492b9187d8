#include "suites/math/inequality_interval.h"

#include <cctype>
#include <vector>

#include "harness/base/strings.h"
#include "suites/math/math_expr.h"
#include "suites/math/top_level_split.h"

namespace hb::suites::math {
namespace {

bool is_alpha(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; }

struct Interval {
  std::string lo = "-\\infty", hi = "\\infty";
  bool lo_closed = false, hi_closed = false;
};

enum class Rel { lt, le, gt, ge, ne };

struct Piece {
  std::string text;
  std::optional<Rel> rel;  // set for operators
};

// The relation operator at s[i], with its length; none when s[i] does not start one.
std::optional<Rel> relation_at(std::string_view s, size_t i, size_t& len) {
  // Every relation starts with one of these: most positions are rejected without a comparison.
  if (i >= s.size() || (s[i] != '\\' && s[i] != '<' && s[i] != '>' && s[i] != '!')) return std::nullopt;
  struct Op {
    const char* text;
    Rel rel;
  };
  static const Op ops[] = {{"\\leqslant", Rel::le}, {"\\geqslant", Rel::ge}, {"\\le", Rel::le}, {"\\ge", Rel::ge},
                           {"\\lt", Rel::lt},       {"\\gt", Rel::gt},       {"\\ne", Rel::ne}, {"<=", Rel::le},
                           {">=", Rel::ge},         {"!=", Rel::ne},         {"<", Rel::lt},    {">", Rel::gt}};
  for (const auto& op : ops) {
    size_t n = std::char_traits<char>::length(op.text);
    if (s.compare(i, n, op.text) != 0) continue;
    if (op.text[0] == '\\' && i + n < s.size() && is_alpha(s[i + n])) continue;  // \left, \lesssim, \neg ...
    len = n;
    return op.rel;
  }
  return std::nullopt;
}

// A single variable: "x", "t", "x_1", "x_{12}".
bool is_variable(std::string_view v) {
  v = trim(v);
  if (v.size() == 1) return is_alpha(v[0]);
  if (v.size() >= 3 && is_alpha(v[0]) && v[1] == '_') {
    for (size_t k = 2; k < v.size(); ++k)
      if (!std::isalnum(static_cast<unsigned char>(v[k])) && v[k] != '{' && v[k] != '}') return false;
    return true;
  }
  return false;
}

Rel flip(Rel r) {
  switch (r) {
    case Rel::lt: return Rel::gt;
    case Rel::le: return Rel::ge;
    case Rel::gt: return Rel::lt;
    case Rel::ge: return Rel::le;
    case Rel::ne: return Rel::ne;
  }
  return r;
}

// "x REL c" as intervals (two for \ne).
std::vector<Interval> bound(Rel rel, const std::string& c) {
  Interval v;
  switch (rel) {
    case Rel::lt: v.hi = c; break;
    case Rel::le: v.hi = c, v.hi_closed = true; break;
    case Rel::gt: v.lo = c; break;
    case Rel::ge: v.lo = c, v.lo_closed = true; break;
    case Rel::ne: {
      Interval a, b;
      a.hi = c;
      b.lo = c;
      return {a, b};
    }
  }
  return {v};
}

// One relation or chain: "x > 5", "5 \le x", "-2 \le x < 7", "7 > x \ge -2". var is set (or checked) here.
std::optional<std::vector<Interval>> relation(std::string_view s, std::string& var) {
  std::vector<Piece> pieces;
  int depth = 0;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '(' || c == '[' || c == '{') ++depth;
    else if (c == ')' || c == ']' || c == '}') --depth;
    size_t len = 0;
    if (depth == 0) {
      if (auto rel = relation_at(s, i, len)) {
        pieces.push_back({std::string(trim(s.substr(start, i - start))), std::nullopt});
        pieces.push_back({"", rel});
        start = i + len;
        i = start - 1;
      }
    }
  }
  pieces.push_back({std::string(trim(s.substr(start))), std::nullopt});
  auto uses = [&](const std::string& v) {
    if (!is_variable(v)) return false;
    std::string name(trim(v));
    if (var.empty()) var = name;
    return var == name;
  };
  if (pieces.size() == 3) {
    const std::string &a = pieces[0].text, &b = pieces[2].text;
    if (a.empty() || b.empty()) return std::nullopt;
    if (uses(a) && !is_variable(b)) return bound(*pieces[1].rel, b);
    if (uses(b) && !is_variable(a)) return bound(flip(*pieces[1].rel), a);
    return std::nullopt;
  }
  if (pieces.size() == 5 && uses(pieces[2].text) && !pieces[0].text.empty() && !pieces[4].text.empty()) {
    Rel r1 = *pieces[1].rel, r2 = *pieces[3].rel;
    bool up = (r1 == Rel::lt || r1 == Rel::le) && (r2 == Rel::lt || r2 == Rel::le);
    bool down = (r1 == Rel::gt || r1 == Rel::ge) && (r2 == Rel::gt || r2 == Rel::ge);
    if (!up && !down) return std::nullopt;
    Interval v;
    v.lo = up ? pieces[0].text : pieces[4].text;
    v.hi = up ? pieces[4].text : pieces[0].text;
    v.lo_closed = up ? r1 == Rel::le : r2 == Rel::ge;
    v.hi_closed = up ? r2 == Rel::le : r1 == Rel::ge;
    return std::vector<Interval>{v};
  }
  return std::nullopt;
}

std::optional<long double> value_of(const std::string& s) {
  ParsedExpr p = parse_expression(s);
  if (!p.root) return std::nullopt;
  std::set<std::string> syms;
  collect_symbols(*p.root, syms);
  if (!syms.empty()) return std::nullopt;
  Complex z = eval_numeric(*p.root, [](const std::string&) { return Complex(0, 0); });
  if (z.imag() != 0 || z.real() != z.real()) return std::nullopt;
  return z.real();
}

// The intersection of two intervals, nullopt when it is empty or an endpoint cannot be evaluated.
std::optional<Interval> intersect(const Interval& a, const Interval& b) {
  auto alo = value_of(a.lo), blo = value_of(b.lo), ahi = value_of(a.hi), bhi = value_of(b.hi);
  if (!alo || !blo || !ahi || !bhi) return std::nullopt;
  Interval r;
  if (*alo > *blo || (*alo == *blo && !a.lo_closed)) r.lo = a.lo, r.lo_closed = a.lo_closed;
  else r.lo = b.lo, r.lo_closed = b.lo_closed;
  if (*ahi < *bhi || (*ahi == *bhi && !a.hi_closed)) r.hi = a.hi, r.hi_closed = a.hi_closed;
  else r.hi = b.hi, r.hi_closed = b.hi_closed;
  auto lo = value_of(r.lo), hi = value_of(r.hi);
  if (*lo > *hi || (*lo == *hi && !(r.lo_closed && r.hi_closed))) return std::nullopt;
  return r;
}

std::string render(const std::vector<Interval>& parts) {
  std::string out;
  for (const auto& v : parts) {
    if (!out.empty()) out += " \\cup ";
    out += (v.lo_closed ? "[" : "(") + v.lo + "," + v.hi + (v.hi_closed ? "]" : ")");
  }
  return out;
}

bool has_relation(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    size_t len = 0;
    if (relation_at(s, i, len)) return true;
  }
  return false;
}

}  // namespace

std::optional<std::string> inequality_as_interval(std::string_view in) {
  std::string s(trim(in));
  if (s.size() > 1000) return std::nullopt;
  std::string var;
  // Set-builder: \{x \mid C\}, \{x : C\}, \{x | C\}, \{x \in \mathbb{R} : C\}.
  if (starts_with(s, "\\{") && ends_with(s, "\\}")) {
    std::string body = s.substr(2, s.size() - 4);
    auto parts = split_top_level(body, {"\\mid", "|", ":"});
    if (parts.size() != 2) return std::nullopt;
    std::string head = parts[0];
    size_t in_pos = head.find("\\in");
    if (in_pos != std::string::npos) head = head.substr(0, in_pos);
    if (!is_variable(head)) return std::nullopt;
    var = std::string(trim(head));
    s = parts[1];
  }
  if (!has_relation(s)) return std::nullopt;
  std::vector<Interval> result;
  for (const auto& alt : split_top_level(s, {"\\text{or}", "\\lor", "\\vee", "or", "\\cup"})) {
    std::vector<std::string> conj = split_top_level(alt, {"\\land", "\\wedge", ","});
    std::vector<std::vector<Interval>> sets;
    for (const auto& c : conj) {
      auto r = relation(c, var);
      if (!r) return std::nullopt;
      sets.push_back(*r);
    }
    if (sets.size() == 1) {
      result.insert(result.end(), sets[0].begin(), sets[0].end());
      continue;
    }
    // "x > -2, x < 7": one interval when the two meet; otherwise read as a list of alternatives.
    if (sets.size() == 2 && sets[0].size() == 1 && sets[1].size() == 1) {
      if (auto v = intersect(sets[0][0], sets[1][0])) {
        result.push_back(*v);
        continue;
      }
    }
    for (const auto& set : sets) result.insert(result.end(), set.begin(), set.end());
  }
  return render(result);
}

}  // namespace hb::suites::math
