#pragma once
// A small expression tree for math answers, parsed from normalised LaTeX (see latex_normalize.h), with two
// evaluators: exact rational arithmetic (when every leaf is a rational literal) and complex long-double
// evaluation with caller-chosen values for free symbols. The parser is a hand-written recursive descent
// over characters: linear in the input, recursion bounded by kMaxDepth, no regular expressions.
#include <complex>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "suites/math/rational.h"

namespace hb::suites::math {

enum class NodeKind { number, symbol, imaginary, pi, infinity, add, mul, pow, neg, func, factorial };

struct Node {
  NodeKind kind = NodeKind::number;
  std::string text;                        // number literal, symbol name or function name
  std::vector<std::unique_ptr<Node>> args;
};
using NodePtr = std::unique_ptr<Node>;

constexpr int kMaxDepth = 64;

struct ParsedExpr {
  NodePtr root;        // null when parsing failed
  std::string error;   // why parsing failed
};

// Parses one scalar expression (no top-level commas, brackets of tuples, or relations).
ParsedExpr parse_expression(std::string_view normalised);

enum class ExactStatus { ok, not_rational, overflow };
struct ExactValue {
  ExactStatus status = ExactStatus::not_rational;
  Rational value;
};
ExactValue eval_exact(const Node& node);

using Complex = std::complex<long double>;
// symbol_value gives the value of each free symbol (called once per occurrence; must be deterministic).
Complex eval_numeric(const Node& node, const std::function<Complex(const std::string&)>& symbol_value);

void collect_symbols(const Node& node, std::set<std::string>& out);
bool contains_kind(const Node& node, NodeKind kind);
// True for a bare decimal literal such as "4.123" (optionally negated).
bool is_decimal_literal(const Node& node);
// True for a literal fraction a/b (optionally negated) that is not in lowest terms, e.g. 6/8.
bool is_unreduced_fraction(const Node& node);

}  // namespace hb::suites::math
