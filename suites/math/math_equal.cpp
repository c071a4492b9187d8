#include "suites/math/math_equal.h"

#include <cmath>
#include <set>

#include "harness/base/strings.h"
#include "suites/math/latex_normalize.h"
#include "suites/math/math_answer.h"
#include "suites/math/modular_eval.h"

namespace hb::suites::math {
namespace {

using Kind = AnswerValue::Kind;

MathVerdict yes(std::string why) { return {true, std::move(why)}; }
MathVerdict no(std::string why) { return {false, std::move(why)}; }

std::string shorten(const std::string& s) { return s.size() <= 40 ? s : s.substr(0, 37) + "..."; }

// Lower-case, without spaces, parentheses, braces and backslashes: "\text{(C)}" and "c" agree.
std::string compact_text(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == ' ' || c == '(' || c == ')' || c == '{' || c == '}' || c == '\\') continue;
    out += (char)std::tolower((unsigned char)c);
  }
  return out;
}

uint64_t fnv1a(std::string_view s, uint64_t seed) {
  uint64_t h = 1469598103934665603ull ^ (seed * 0x9E3779B97F4A7C15ull);
  for (char c : s) {
    h ^= (unsigned char)c;
    h *= 1099511628211ull;
  }
  return h;
}

// A deterministic pseudo-random value in [0.35, 2.35) for a symbol at a trial.
long double symbol_point(const std::string& name, int trial) {
  uint64_t h = fnv1a(name, (uint64_t)trial + 17);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return 0.35L + (long double)(h % 1000003) / 1000003.0L * 2.0L;
}

bool is_bad(const Complex& z) { return std::isnan(z.real()) || std::isnan(z.imag()); }

bool is_infinite(const Complex& z) { return std::isinf(z.real()) || std::isinf(z.imag()); }

bool close(const Complex& a, const Complex& b, double rel) {
  bool ainf = is_infinite(a);
  bool binf = is_infinite(b);
  if (ainf || binf) return ainf && binf && std::signbit(a.real()) == std::signbit(b.real()) && a.imag() == 0 && b.imag() == 0;
  // Purely relative, so that tiny distinct values stay distinct; an exact zero on one side allows a
  // rounding residue of 1e-15 on the other (sin(pi) against 0).
  if (a == Complex(0, 0) || b == Complex(0, 0)) return std::abs(a - b) <= 1e-15L;
  long double scale = std::max(std::abs(a), std::abs(b));
  return std::abs(a - b) <= (long double)rel * scale;
}

class Comparer {
 public:
  explicit Comparer(const MathOptions& o) : opt_(o) {}

  MathVerdict compare(const AnswerValue& g, const AnswerValue& p) {
    if (++work_ > 4000) return no("comparison budget exhausted");
    if (g.text == p.text && g.kind == p.kind) return yes("identical after normalisation");
    // "x = 5" against "5": drop a single-variable left-hand side.
    if (g.kind == Kind::equation && p.kind != Kind::equation && single_symbol(g.items[0]))
      return with_prefix("gold's '" + g.items[0].text + " =' dropped; ", compare(g.items[1], p));
    // The answer names the asked quantity ("XY = 70\sqrt{2}", "a + b = 7") or shows a computation
    // ("12 + 30 = 42"): its right-hand side is the answer.
    if (p.kind == Kind::equation && g.kind != Kind::equation) {
      if (names_quantity(p.items[0]))
        return with_prefix("answer's '" + shorten(p.items[0].text) + " =' dropped; ", compare(g, p.items[1]));
      // A computation with a constant result ("200 + 2d = 350", "{8 \\choose 2} = 28"): the result.
      if (!is_constant(p.items[0]) && is_constant(p.items[1]))
        return with_prefix("the result of '" + shorten(p.items[0].text) + " ='; ", compare(g, p.items[1]));
      if (is_constant(p.items[0])) {
        MathVerdict v = compare(g, p.items[1]);
        if (v.equal) return with_prefix("the result of '" + shorten(p.items[0].text) + " ='; ", v);
        // "\frac{\sqrt3}{3} = 0.577": a decimal right-hand side approximates the exact left one.
        if (p.items[1].kind == Kind::expr && p.items[1].expr && is_decimal_literal(*p.items[1].expr) &&
            approximately(p.items[0], p.items[1])) {
          MathVerdict w = compare(g, p.items[0]);
          if (w.equal) return with_prefix("the exact side of an approximation; ", w);
        }
        return v;
      }
    }
    if (g.kind == Kind::text || p.kind == Kind::text) {
      if (compact_text(g.text) == compact_text(p.text)) return yes("same text");
      return no("text differs: '" + shorten(g.text) + "' vs '" + shorten(p.text) + "'");
    }
    if (g.kind == Kind::tuple && p.kind == Kind::tuple) return compare_tuple(g, p);
    if (g.kind == Kind::set && (p.kind == Kind::set || (p.kind == Kind::tuple && p.open == '(' && p.close == ')')))
      return compare_set(g, p);
    if (p.kind == Kind::set && g.kind == Kind::tuple && g.open == '(' && g.close == ')') return compare_set(g, p);
    if (g.kind == Kind::matrix && p.kind == Kind::matrix) return compare_matrix(g, p);
    if (g.kind == Kind::equation && p.kind == Kind::equation) return compare_equation(g, p);
    if (g.kind == Kind::expr && p.kind == Kind::expr) return compare_scalar(g, p);
    return no(std::string("gold is a ") + kind_name(g.kind) + ", the answer is a " + kind_name(p.kind));
  }

 private:
  const MathOptions& opt_;
  int work_ = 0;

  static MathVerdict with_prefix(const std::string& prefix, MathVerdict v) {
    v.reason = prefix + v.reason;
    return v;
  }

  // A left-hand side that names a quantity: symbols only, no number literal ("XY", "a+b", "m\angle ABC",
  // "f(x)"). A subscript is part of a symbol, so "x_1 + x_2" qualifies.
  static bool names_quantity(const AnswerValue& v) {
    if (single_symbol(v)) return true;
    if (v.kind == Kind::tuple) {  // "(m,b) = (3/2, -13)"
      for (const auto& item : v.items)
        if (!single_symbol(item)) return false;
      return !v.items.empty();
    }
    if (v.kind != Kind::expr || !v.expr) return false;
    std::set<std::string> syms;
    collect_symbols(*v.expr, syms);
    return !syms.empty() && !contains_kind(*v.expr, NodeKind::number);
  }

  static bool is_constant(const AnswerValue& v) {
    if (v.kind != Kind::expr || !v.expr) return false;
    std::set<std::string> syms;
    collect_symbols(*v.expr, syms);
    return syms.empty();
  }

  // Two constants within 1% of each other (a decimal written after an exact value).
  static bool approximately(const AnswerValue& a, const AnswerValue& b) {
    auto zero = [](const std::string&) { return Complex(0, 0); };
    Complex x = eval_numeric(*a.expr, zero), y = eval_numeric(*b.expr, zero);
    if (is_bad(x) || is_bad(y)) return false;
    return std::abs(x - y) <= 0.01L * std::max(std::abs(x), std::abs(y));
  }

  // A left-hand side that only names the answer: "x", "y_1", "f(x)", "g(t)".
  static bool single_symbol(const AnswerValue& v) {
    if (v.kind != Kind::expr || !v.expr) return false;
    if (v.expr->kind == NodeKind::symbol) return true;
    const std::string& t = v.text;
    if (t.size() < 4 || !std::isalpha(static_cast<unsigned char>(t[0])) || t[1] != '(' || t.back() != ')') return false;
    for (size_t i = 2; i + 1 < t.size(); ++i)
      if (!std::isalpha(static_cast<unsigned char>(t[i])) && t[i] != ',' && t[i] != ' ') return false;
    return true;
  }

  MathVerdict compare_tuple(const AnswerValue& g, const AnswerValue& p) {
    if (g.items.size() != p.items.size())
      return no("tuple sizes differ: " + std::to_string(g.items.size()) + " vs " + std::to_string(p.items.size()));
    // An end at infinity is open whatever bracket is written: "[-\infty, 0]" is "(-\infty, 0]".
    auto infinite = [](const AnswerValue& v) { return v.kind == Kind::expr && v.expr && contains_kind(*v.expr, NodeKind::infinity); };
    bool open_ok = g.open == p.open || (infinite(g.items.front()) && infinite(p.items.front()));
    bool close_ok = g.close == p.close || (infinite(g.items.back()) && infinite(p.items.back()));
    if (!open_ok || !close_ok)
      return no(std::string("brackets differ: ") + g.open + "..." + g.close + " vs " + p.open + "..." + p.close);
    for (size_t i = 0; i < g.items.size(); ++i) {
      MathVerdict v = compare(g.items[i], p.items[i]);
      if (!v.equal) return no("element " + std::to_string(i + 1) + ": " + v.reason);
    }
    return yes("tuple equal element-wise (" + std::to_string(g.items.size()) + " elements)");
  }

  MathVerdict compare_set(const AnswerValue& g, const AnswerValue& p) {
    if (g.items.size() != p.items.size())
      return no("set sizes differ: " + std::to_string(g.items.size()) + " vs " + std::to_string(p.items.size()));
    if (g.items.size() > 64) return no("set larger than 64 elements");
    std::vector<bool> used(p.items.size(), false);
    for (size_t i = 0; i < g.items.size(); ++i) {
      bool found = false;
      for (size_t j = 0; j < p.items.size() && !found; ++j) {
        if (used[j]) continue;
        if (compare(g.items[i], p.items[j]).equal) {
          used[j] = true;
          found = true;
        }
      }
      if (!found) return no("gold element '" + shorten(g.items[i].text) + "' has no match");
    }
    return yes("same elements in any order (" + std::to_string(g.items.size()) + ")");
  }

  MathVerdict compare_matrix(const AnswerValue& g, const AnswerValue& p) {
    if (g.rows != p.rows || g.cols != p.cols)
      return no("matrix shapes differ: " + std::to_string(g.rows) + "x" + std::to_string(g.cols) + " vs " +
                std::to_string(p.rows) + "x" + std::to_string(p.cols));
    for (size_t i = 0; i < g.items.size(); ++i) {
      MathVerdict v = compare(g.items[i], p.items[i]);
      if (!v.equal) return no("matrix entry " + std::to_string(i + 1) + ": " + v.reason);
    }
    return yes("matrix equal entry-wise");
  }

  MathVerdict compare_equation(const AnswerValue& g, const AnswerValue& p) {
    if (names_quantity(g.items[0]) && names_quantity(p.items[0]) && g.items[0].text == p.items[0].text &&
        (single_symbol(g.items[0]) || !names_quantity(g.items[1])))
      return with_prefix("same left-hand side; ", compare(g.items[1], p.items[1]));
    for (const auto& side : {&g.items[0], &g.items[1], &p.items[0], &p.items[1]})
      if (side->kind != Kind::expr || !side->expr) return no("equation side is not an expression");
    // lhs - rhs of the answer must be a non-zero constant multiple of the gold's.
    std::set<std::string> syms;
    for (const auto& side : {&g.items[0], &g.items[1], &p.items[0], &p.items[1]}) collect_symbols(*side->expr, syms);
    Complex ratio;
    int valid = 0;
    for (int trial = 0; trial < 10 && valid < 4; ++trial) {
      auto val = [&](const std::string& n) { return Complex(symbol_point(n, trial), 0); };
      Complex fg = eval_numeric(*g.items[0].expr, val) - eval_numeric(*g.items[1].expr, val);
      Complex fp = eval_numeric(*p.items[0].expr, val) - eval_numeric(*p.items[1].expr, val);
      if (is_bad(fg) || is_bad(fp) || std::abs(fg) < 1e-9L) continue;
      Complex r = fp / fg;
      if (valid == 0) {
        ratio = r;
        if (std::abs(ratio) < 1e-12L) return no("equations differ");
        // The sign is fixed where the gold is written in the normal form "... = 0" (MATH: "where A > 0").
        if (opt_.equation_multiples == EquationMultiples::positive_multiple && g.items[1].text == "0" &&
            ratio.real() < 0 && std::abs(ratio.imag()) < 1e-12L * std::abs(ratio))
          return no("the equation is a negated multiple of the gold's (the sign is fixed; policy positive_multiple)");
      } else if (!close(r, ratio, 1e-9)) {
        return no("equations are not multiples of each other");
      }
      ++valid;
    }
    if (valid < 2) return no("equations could not be evaluated");
    return yes("equations equivalent (one is a constant multiple of the other)");
  }

  MathVerdict compare_scalar(const AnswerValue& g, const AnswerValue& p) {
    if (!g.expr || !p.expr) {
      // Unparseable math: only the same characters (spaces aside) count as equal.
      auto no_space = [](const std::string& s) {
        std::string o;
        for (char c : s)
          if (c != ' ') o += c;
        return o;
      };
      std::string cg = no_space(g.text), cp = no_space(p.text);
      if (cg == cp) return yes("same text (not parseable as math)");
      return no(std::string("could not parse ") + (!p.expr ? "answer" : "gold") + ": " +
                (!p.expr ? p.parse_error : g.parse_error));
    }
    const Node& gn = *g.expr;
    const Node& pn = *p.expr;
    if (!opt_.accept_unreduced_fractions && is_unreduced_fraction(pn) && !is_unreduced_fraction(gn))
      return no("fraction not in lowest terms");
    ExactValue ge = eval_exact(gn);
    ExactValue pe = eval_exact(pn);
    if (ge.status == ExactStatus::ok && pe.status == ExactStatus::ok) {
      if (ge.value == pe.value) return yes("equal as exact rationals (" + shorten(ge.value.to_string()) + ")");
      return no("different values: " + shorten(ge.value.to_string()) + " vs " + shorten(pe.value.to_string()));
    }
    // Rationals too large for __int128 (2^{200} vs 2^{200}+1): exact through residues, never a tolerance.
    if (ge.status != ExactStatus::not_rational && pe.status != ExactStatus::not_rational) {
      auto gr = eval_modular(gn), pr = eval_modular(pn);
      if (gr && pr) {
        if (*gr == *pr) return yes("equal as exact rationals (compared modulo three primes)");
        return no("different exact values (compared modulo three primes)");
      }
    }
    std::set<std::string> gs, ps;
    collect_symbols(gn, gs);
    collect_symbols(pn, ps);
    if (gs != ps) {
      std::string names;
      for (const auto& s : gs.size() >= ps.size() ? gs : ps) names += (names.empty() ? "" : ",") + s;
      return no("different variables (" + shorten(names) + ")");
    }
    if (gs.empty() && !opt_.accept_decimal_for_irrational) {
      bool g_irr = ge.status == ExactStatus::not_rational, p_irr = pe.status == ExactStatus::not_rational;
      if ((g_irr && is_decimal_literal(pn)) || (p_irr && is_decimal_literal(gn)))
        return no("a decimal approximation is not the exact value");
    }
    const bool g_has_infinity = contains_kind(gn, NodeKind::infinity), p_has_infinity = contains_kind(pn, NodeKind::infinity);
    int valid = 0;
    int trials = gs.empty() ? 1 : 12;
    for (int trial = 0; trial < trials && valid < (gs.empty() ? 1 : 5); ++trial) {
      auto val = [&](const std::string& n) { return Complex(symbol_point(n, trial), 0); };
      Complex a = eval_numeric(gn, val);
      Complex b = eval_numeric(pn, val);
      if (is_bad(a) && is_bad(b)) continue;
      if (is_bad(a) || is_bad(b)) return no("one side is undefined where the other is not");
      // An infinity that no \infty produced is an overflow (2000!, 10^{10^6} past the modular path): it
      // says nothing about equality, and 2000! is not \infty.
      if ((is_infinite(a) && !g_has_infinity) || (is_infinite(b) && !p_has_infinity))
        return no("too large to compare numerically (overflows long double) and no exact form");
      if (!close(a, b, opt_.relative_tolerance)) {
        if (gs.empty()) return no("different values: " + num_str(a) + " vs " + num_str(b));
        return no("differ at a random point: " + num_str(a) + " vs " + num_str(b));
      }
      ++valid;
    }
    if (valid == 0) return no("neither side could be evaluated");
    if (gs.empty()) return yes("numerically equal (" + num_str(ge.status == ExactStatus::ok ? Complex(ge.value.to_long_double(), 0) : eval_numeric(gn, [](const std::string&) { return Complex(0, 0); })) + ", rel. tol. 1e-9)");
    return yes("equal at " + std::to_string(valid) + " random points");
  }

  static std::string num_str(const Complex& z) {
    char buf[96];
    if (z.imag() == 0) std::snprintf(buf, sizeof buf, "%.10Lg", z.real());
    else std::snprintf(buf, sizeof buf, "%.8Lg%+.8Lgi", z.real(), z.imag());
    return buf;
  }
};

// "A \approx B" (also \simeq, ≈): the exact A, or the value B it was rounded to ("24000 \cdot 1.01^{30}
// \approx 32348"). Returns the position of the relation and its length, npos when there is none.
std::pair<size_t, size_t> find_approx(std::string_view s) {
  for (std::string_view rel : {"\\approx", "\\simeq", "\xe2\x89\x88"}) {
    size_t p = s.find(rel);
    if (p == std::string_view::npos || p == 0) continue;
    size_t e = p + rel.size();
    if (rel[0] == '\\' && e < s.size() && std::isalpha(static_cast<unsigned char>(s[e]))) continue;
    return {p, rel.size()};
  }
  return {std::string_view::npos, 0};
}

MathVerdict math_equal_one(std::string_view gold, std::string_view pred, const MathOptions& options);

}  // namespace

MathVerdict math_equal(std::string_view gold, std::string_view pred, const MathOptions& options) {
  if (pred.size() > 4000) return no("answer longer than 4000 characters");
  if (gold.size() > 4000) return no("gold longer than 4000 characters");
  auto [p, len] = find_approx(pred);
  if (p == std::string_view::npos || find_approx(gold).first != std::string_view::npos)
    return math_equal_one(gold, pred, options);
  MathVerdict exact = math_equal_one(gold, pred.substr(0, p), options);
  if (exact.equal) return {true, "the value before \\approx; " + exact.reason};
  MathVerdict rounded = math_equal_one(gold, pred.substr(p + len), options);
  if (rounded.equal) return {true, "the value after \\approx; " + rounded.reason};
  return exact;
}

namespace {

MathVerdict math_equal_one(std::string_view gold, std::string_view pred, const MathOptions& options) {
  NormalizedAnswer gn = normalize_latex(gold);
  NormalizedAnswer pn = normalize_latex(pred);
  if (pn.text.empty()) return no("empty answer");
  AnswerValue g = parse_answer(gn.text, gn.was_text);
  AnswerValue p = parse_answer(pn.text, pn.was_text);
  Comparer c(options);
  MathVerdict v = c.compare(g, p);
  // "50\%" is 50 when the gold is 50 (the percent sign dropped), and 1/2 when the gold is a fraction.
  if (!v.equal && (pn.had_percent != gn.had_percent) && g.kind == AnswerValue::Kind::expr &&
      p.kind == AnswerValue::Kind::expr) {
    bool pred_side = pn.had_percent;
    AnswerValue scaled = parse_answer("\\frac{" + (pred_side ? pn.text : gn.text) + "}{100}");
    MathVerdict w = pred_side ? c.compare(g, scaled) : c.compare(scaled, p);
    if (w.equal) return {true, "percent read as /100; " + w.reason};
  }
  return v;
}

}  // namespace

}  // namespace hb::suites::math
