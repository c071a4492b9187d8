#include "suites/math/math_expr.h"

#include <cmath>
#include <cstdlib>
#include <limits>

namespace hb::suites::math {
namespace {

NodePtr make(NodeKind kind, std::string text = {}) {
  auto n = std::make_unique<Node>();
  n->kind = kind;
  n->text = std::move(text);
  return n;
}

NodePtr make2(NodeKind kind, NodePtr a, NodePtr b, std::string text = {}) {
  auto n = make(kind, std::move(text));
  n->args.push_back(std::move(a));
  n->args.push_back(std::move(b));
  return n;
}

NodePtr reciprocal(NodePtr den) {
  // Marked "/" so that is_unreduced_fraction can recognise a literal a/b.
  return make2(NodeKind::pow, std::move(den), make(NodeKind::number, "-1"), "/");
}

size_t node_count(const Node& n) {
  size_t c = 1;
  for (const auto& a : n.args) c += node_count(*a);
  return c;
}

NodePtr clone(const Node& n) {
  auto c = make(n.kind, n.text);
  for (const auto& a : n.args) c->args.push_back(clone(*a));
  return c;
}

NodePtr factorial_of(NodePtr a) {
  auto f = make(NodeKind::factorial);
  f->args.push_back(std::move(a));
  return f;
}

constexpr size_t kMaxBinomialNodes = 200;

// \binom{n}{k} as n! / (k! (n - k)!): the exact, modular and numeric evaluators need nothing new.
NodePtr binomial(NodePtr n, NodePtr k) {
  auto minus_k = make(NodeKind::neg);
  minus_k->args.push_back(clone(*k));
  NodePtr n_minus_k = make2(NodeKind::add, clone(*n), std::move(minus_k));
  NodePtr den = make2(NodeKind::mul, factorial_of(std::move(k)), factorial_of(std::move(n_minus_k)));
  return make2(NodeKind::mul, factorial_of(std::move(n)), reciprocal(std::move(den)));
}

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

const std::set<std::string>& function_names() {
  static const std::set<std::string> names = {"sin",  "cos",    "tan",    "cot",    "sec",  "csc",  "arcsin",
                                              "arccos", "arctan", "sinh", "cosh",   "tanh", "ln",   "log",
                                              "exp",  "sqrt",   "abs",    "root"};
  return names;
}

// Commands that are operators or separators, never the start of a factor.
const std::set<std::string>& operator_commands() {
  static const std::set<std::string> names = {"cdot", "times", "div",  "pm",  "mp",    "le",   "leq", "ge",
                                              "geq",  "ne",    "neq",  "cup", "cap",   "in",   "to",  "right",
                                              "left", "end",   "quad", "lt",  "gt",    "approx", "mid", "colon"};
  return names;
}

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  ParsedExpr run() {
    ParsedExpr out;
    NodePtr root = expr();
    skip_ws();
    if (!error_.empty()) {
      out.error = error_;
      return out;
    }
    if (pos_ < s_.size()) {
      out.error = "unexpected '" + std::string(s_.substr(pos_, 12)) + "' at offset " + std::to_string(pos_);
      return out;
    }
    out.root = std::move(root);
    return out;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
  int depth_ = 0;
  int abs_depth_ = 0;
  std::string error_;

  struct DepthGuard {
    Parser& p;
    explicit DepthGuard(Parser& parser) : p(parser) {
      if (++p.depth_ > kMaxDepth && p.error_.empty()) p.error_ = "expression nested deeper than " + std::to_string(kMaxDepth);
    }
    ~DepthGuard() { --p.depth_; }
  };

  bool failed() const { return !error_.empty(); }
  NodePtr fail(const std::string& why) {
    if (error_.empty()) error_ = why;
    return nullptr;
  }
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }
  char peek() {
    skip_ws();
    return pos_ < s_.size() ? s_[pos_] : '\0';
  }
  bool eat(char c) {
    if (peek() == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  // The command name at pos_ (pos_ at a backslash), without consuming it.
  std::string peek_command() {
    skip_ws();
    if (pos_ >= s_.size() || s_[pos_] != '\\') return {};
    size_t j = pos_ + 1;
    while (j < s_.size() && is_alpha(s_[j])) ++j;
    if (j == pos_ + 1 && j < s_.size()) return std::string(1, s_[j]);  // \{ \| \, ...
    return std::string(s_.substr(pos_ + 1, j - pos_ - 1));
  }
  std::string take_command() {
    std::string name = peek_command();
    pos_ += 1 + name.size();
    return name;
  }

  NodePtr expr() {
    DepthGuard g(*this);
    if (failed()) return nullptr;
    NodePtr lhs = unary();
    while (!failed()) {
      char c = peek();
      if (c == '+' || c == '-') {
        ++pos_;
        NodePtr rhs = term();
        if (failed()) return nullptr;
        if (c == '-') {
          auto n = make(NodeKind::neg);
          n->args.push_back(std::move(rhs));
          rhs = std::move(n);
        }
        lhs = make2(NodeKind::add, std::move(lhs), std::move(rhs));
      } else {
        break;
      }
    }
    return lhs;
  }

  // A term that may start with a sign ("a - -b" and "2 + -3").
  NodePtr term() { return unary(); }

  NodePtr unary() {
    DepthGuard g(*this);
    if (failed()) return nullptr;
    char c = peek();
    if (c == '-') {
      ++pos_;
      auto n = make(NodeKind::neg);
      n->args.push_back(unary_power_only());
      if (failed()) return nullptr;
      auto rest = product_tail(std::move(n));
      return rest;
    }
    if (c == '+') {
      ++pos_;
      return unary();
    }
    return product_tail(power());
  }

  // After a leading minus: "-2x" is -(2) * x, "-x^2" is -(x^2).
  NodePtr unary_power_only() {
    char c = peek();
    if (c == '-') {
      ++pos_;
      auto n = make(NodeKind::neg);
      n->args.push_back(unary_power_only());
      return n;
    }
    if (c == '+') {
      ++pos_;
      return unary_power_only();
    }
    return power();
  }

  bool starts_factor() {
    char c = peek();
    if (c == '\0') return false;
    if (is_digit(c) || c == '.' || is_alpha(c) || c == '(' || c == '{') return true;
    if (c == '|') return abs_depth_ == 0;
    if (c == '\\') {
      std::string cmd = peek_command();
      if (cmd.empty() || operator_commands().count(cmd)) return false;
      if (cmd == "{" || cmd == "}" || cmd == "|") return false;
      return true;
    }
    return false;
  }

  NodePtr product_tail(NodePtr lhs) {
    while (!failed()) {
      char c = peek();
      if (c == '*') {
        ++pos_;
        lhs = make2(NodeKind::mul, std::move(lhs), unary_power_only());
        continue;
      }
      if (c == '/') {
        ++pos_;
        lhs = make2(NodeKind::mul, std::move(lhs), reciprocal(unary_power_only()));
        continue;
      }
      if (c == '\\') {
        std::string cmd = peek_command();
        if (cmd == "cdot" || cmd == "times" || cmd == "ast") {
          take_command();
          lhs = make2(NodeKind::mul, std::move(lhs), unary_power_only());
          continue;
        }
        if (cmd == "div") {
          take_command();
          lhs = make2(NodeKind::mul, std::move(lhs), reciprocal(unary_power_only()));
          continue;
        }
      }
      if (starts_factor()) {
        lhs = make2(NodeKind::mul, std::move(lhs), power());
        continue;
      }
      break;
    }
    return lhs;
  }

  NodePtr power() {
    DepthGuard g(*this);
    if (failed()) return nullptr;
    NodePtr base = postfix();
    while (!failed() && peek() == '^') {
      ++pos_;
      NodePtr e = script_arg();
      if (failed()) return nullptr;
      base = make2(NodeKind::pow, std::move(base), std::move(e));
      while (peek() == '!') {
        ++pos_;
        auto f = make(NodeKind::factorial);
        f->args.push_back(std::move(base));
        base = std::move(f);
      }
    }
    return base;
  }

  NodePtr postfix() {
    NodePtr a = atom();
    while (!failed() && pos_ < s_.size() && s_[pos_] == '!') {
      ++pos_;
      auto f = make(NodeKind::factorial);
      f->args.push_back(std::move(a));
      a = std::move(f);
    }
    return a;
  }

  // The argument of ^ or of \frac/\sqrt without braces: {expr}, a single digit, a letter or a command atom.
  NodePtr script_arg() {
    DepthGuard g(*this);
    if (failed()) return nullptr;
    char c = peek();
    if (c == '{') {
      ++pos_;
      NodePtr e = expr();
      if (!eat('}')) return fail("missing '}'");
      return e;
    }
    if (c == '-') {  // x^-1
      ++pos_;
      auto n = make(NodeKind::neg);
      n->args.push_back(script_arg());
      return n;
    }
    if (is_digit(c)) {
      ++pos_;
      return make(NodeKind::number, std::string(1, c));
    }
    if (is_alpha(c)) {
      ++pos_;
      return c == 'i' ? make(NodeKind::imaginary) : make(NodeKind::symbol, std::string(1, c));
    }
    if (c == '(' || c == '\\') return atom();
    return fail(c == '\0' ? "expression ends after an operator" : std::string("unexpected '") + c + "' in a script");
  }

  // Raw text of a subscript (_8, _{10}, _n) used as part of a name.
  std::string subscript_text() {
    ++pos_;  // '_'
    if (pos_ < s_.size() && s_[pos_] == '{') {
      size_t close = s_.find('}', pos_);
      if (close == std::string_view::npos) {
        fail("missing '}' in a subscript");
        return {};
      }
      std::string t(s_.substr(pos_ + 1, close - pos_ - 1));
      pos_ = close + 1;
      std::string compact;
      for (char ch : t)
        if (ch != ' ') compact += ch;
      return compact;
    }
    if (pos_ < s_.size()) return std::string(1, s_[pos_++]);
    fail("empty subscript");
    return {};
  }

  // "0.\overline{3}", "0.1\overline{6}": the exact rational, reduced.
  NodePtr repeating_decimal(const std::string& int_part, const std::string& fixed) {
    size_t open = pos_ + 9;  // after "\overline"
    while (open < s_.size() && s_[open] == ' ') ++open;
    if (open >= s_.size() || s_[open] != '{') return fail("\\overline without '{'");
    size_t close = s_.find('}', open);
    if (close == std::string_view::npos) return fail("missing '}' in \\overline");
    std::string rep(s_.substr(open + 1, close - open - 1));
    if (rep.empty() || rep.size() + fixed.size() + int_part.size() > 30) return fail("repeating decimal too long");
    for (char c : rep)
      if (!is_digit(c)) return fail("\\overline over a non-digit");
    pos_ = close + 1;
    // x = I.F(R) = (IFR - IF) / (10^|F| (10^|R| - 1))
    __int128 ifr = 0, iff = 0, den = 1, nines = 0;
    for (char c : int_part + fixed + rep) ifr = ifr * 10 + (c - '0');
    for (char c : int_part + fixed) iff = iff * 10 + (c - '0');
    for (size_t k = 0; k < fixed.size(); ++k) den *= 10;
    for (size_t k = 0; k < rep.size(); ++k) nines = nines * 10 + 9;
    auto q = Rational::make(ifr - iff, den * nines);
    if (!q) return fail("repeating decimal out of range");
    std::string t = q->to_string();
    size_t slash = t.find('/');
    if (slash == std::string::npos) return make(NodeKind::number, t);
    return make2(NodeKind::mul, make(NodeKind::number, t.substr(0, slash)),
                 reciprocal(make(NodeKind::number, t.substr(slash + 1))));
  }

  NodePtr number_literal() {
    size_t start = pos_;
    while (pos_ < s_.size() && is_digit(s_[pos_])) ++pos_;
    if (pos_ < s_.size() && s_[pos_] == '.') {
      size_t frac = pos_ + 1;
      size_t k = frac;
      while (k < s_.size() && is_digit(s_[k])) ++k;
      if (s_.compare(k, 9, "\\overline") == 0) {
        std::string int_part(s_.substr(start, pos_ - start)), fixed(s_.substr(frac, k - frac));
        pos_ = k;
        return repeating_decimal(int_part.empty() ? "0" : int_part, fixed);
      }
    }
    if (pos_ + 1 < s_.size() && s_[pos_] == '.' && is_digit(s_[pos_ + 1])) {
      ++pos_;
      while (pos_ < s_.size() && is_digit(s_[pos_])) ++pos_;
    } else if (pos_ < s_.size() && s_[pos_] == '.' && pos_ == start) {
      return fail("lone '.'");
    }
    std::string lit(s_.substr(start, pos_ - start));
    if (lit.size() > 400) return fail("number literal longer than 400 digits");
    // E-notation: "1.5e3", "2E-5", "3e+4" (an 'e' followed by a digit; "2e" alone is 2 times e).
    if (pos_ + 1 < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      size_t k = pos_ + 1;
      bool neg = false;
      if (k < s_.size() && (s_[k] == '+' || s_[k] == '-')) neg = s_[k++] == '-';
      size_t d = k;
      while (k < s_.size() && is_digit(s_[k])) ++k;
      if (k > d && k - d <= 4) {
        std::string exp(s_.substr(d, k - d));
        pos_ = k;
        NodePtr e = make(NodeKind::number, exp);
        if (neg) {
          auto n = make(NodeKind::neg);
          n->args.push_back(std::move(e));
          e = std::move(n);
        }
        return make2(NodeKind::mul, make(NodeKind::number, lit), make2(NodeKind::pow, make(NodeKind::number, "10"), std::move(e)));
      }
    }
    if (pos_ < s_.size() && s_[pos_] == '_') {  // a number in another base: 52_8 is an opaque atom
      std::string sub = subscript_text();
      return make(NodeKind::symbol, lit + "_" + sub);
    }
    auto num = make(NodeKind::number, lit);
    // Mixed number: "1\frac{4}{5}" or "137 \frac12" means 1 + 4/5 when both frac arguments are integers.
    if (lit.find('.') == std::string::npos) {
      size_t save = pos_;
      std::string cmd = peek_command();
      if (cmd == "frac") {
        take_command();
        NodePtr a = script_arg();
        NodePtr b = failed() ? nullptr : script_arg();
        if (!failed() && a && b && a->kind == NodeKind::number && b->kind == NodeKind::number &&
            a->text.find('.') == std::string::npos && b->text.find('.') == std::string::npos) {
          return make2(NodeKind::add, std::move(num),
                       make2(NodeKind::mul, std::move(a), reciprocal(std::move(b))));
        }
        if (failed()) return nullptr;
        pos_ = save;
      }
    }
    return num;
  }

  NodePtr atom() {
    DepthGuard g(*this);
    if (failed()) return nullptr;
    char c = peek();
    if (c == '\0') return fail("expression ends early");
    if (is_digit(c) || c == '.') return number_literal();
    if (is_alpha(c)) {
      ++pos_;
      if (pos_ < s_.size() && s_[pos_] == '_') return make(NodeKind::symbol, std::string(1, c) + "_" + subscript_text());
      if (c == 'i') return make(NodeKind::imaginary);
      return make(NodeKind::symbol, std::string(1, c));
    }
    if (c == '(' || c == '[' || c == '{') {
      char close = c == '(' ? ')' : c == '[' ? ']' : '}';
      ++pos_;
      NodePtr e = expr();
      if (failed()) return nullptr;
      if (!eat(close)) return fail(std::string("missing '") + close + "'");
      return e;
    }
    if (c == '|') {
      ++pos_;
      ++abs_depth_;
      NodePtr e = expr();
      --abs_depth_;
      if (failed()) return nullptr;
      if (!eat('|')) return fail("missing closing '|'");
      auto f = make(NodeKind::func, "abs");
      f->args.push_back(std::move(e));
      return f;
    }
    if (c == '\\') return command();
    return fail(std::string("unexpected '") + c + "'");
  }

  NodePtr command() {
    std::string cmd = take_command();
    if (cmd == "frac" || cmd == "dfrac" || cmd == "tfrac" || cmd == "cfrac") {
      NodePtr a = script_arg();
      NodePtr b = failed() ? nullptr : script_arg();
      if (failed()) return nullptr;
      return make2(NodeKind::mul, std::move(a), reciprocal(std::move(b)));
    }
    if (cmd == "binom" || cmd == "dbinom" || cmd == "tbinom") {
      NodePtr n = script_arg();
      NodePtr k = failed() ? nullptr : script_arg();
      if (failed()) return nullptr;
      // binomial() copies both arguments, so nested binomials grow 4x per level: refuse large arguments.
      if (node_count(*n) + node_count(*k) > kMaxBinomialNodes) return fail("\\binom arguments too large");
      return binomial(std::move(n), std::move(k));
    }
    if (cmd == "sqrt") {
      NodePtr index;
      if (peek() == '[') {
        ++pos_;
        index = expr();
        if (failed()) return nullptr;
        if (!eat(']')) return fail("missing ']' in \\sqrt[n]");
      }
      NodePtr a = script_arg();
      if (failed()) return nullptr;
      if (!index) {
        auto f = make(NodeKind::func, "sqrt");
        f->args.push_back(std::move(a));
        return f;
      }
      return make2(NodeKind::pow, std::move(a), reciprocal(std::move(index)));
    }
    if (cmd == "pi") return make(NodeKind::pi);
    if (cmd == "infty" || cmd == "infinity") return make(NodeKind::infinity);
    if (cmd == "operatorname") {
      if (!eat('{')) return fail("\\operatorname without '{'");
      size_t close = s_.find('}', pos_);
      if (close == std::string_view::npos) return fail("missing '}'");
      cmd = std::string(s_.substr(pos_, close - pos_));
      pos_ = close + 1;
    }
    if (function_names().count(cmd)) {
      NodePtr exponent;
      NodePtr base;
      for (int k = 0; k < 2; ++k) {
        if (peek() == '^' && !exponent) {
          ++pos_;
          exponent = script_arg();
        } else if (peek() == '_' && !base) {
          ++pos_;
          base = script_arg();
        }
      }
      if (failed()) return nullptr;
      NodePtr arg;
      if (peek() == '(') {
        arg = atom();
      } else {
        arg = unary_power_only();
      }
      if (failed()) return nullptr;
      auto f = make(NodeKind::func, cmd);
      f->args.push_back(std::move(arg));
      NodePtr out = std::move(f);
      if (base) {  // log_b x = ln x / ln b
        auto lb = make(NodeKind::func, "ln");
        lb->args.push_back(std::move(base));
        out->text = "ln";
        out = make2(NodeKind::mul, std::move(out), reciprocal(std::move(lb)));
      }
      if (exponent) out = make2(NodeKind::pow, std::move(out), std::move(exponent));
      return out;
    }
    if (cmd.empty()) return fail("lone backslash");
    if (operator_commands().count(cmd)) return fail("operator \\" + cmd + " where a value was expected");
    // Greek letters and other named constants are opaque symbols.
    return make(NodeKind::symbol, "\\" + cmd);
  }
};

long double factorial_ld(long double n) { return std::tgamma(n + 1); }

// Zero parts made +0: negating 1 gives -1 - 0i, and on that side of the cut sqrt and log return the
// conjugate root (\sqrt{-4} = -2i, \ln(-1) = -i\pi) where a reader means the principal one.
Complex on_branch(Complex z) { return Complex(z.real() == 0 ? 0.0L : z.real(), z.imag() == 0 ? 0.0L : z.imag()); }

}  // namespace

ParsedExpr parse_expression(std::string_view normalised) {
  if (normalised.size() > 4000) return ParsedExpr{nullptr, "expression longer than 4000 characters"};
  return Parser(normalised).run();
}

ExactValue eval_exact(const Node& node) {
  ExactValue out;
  auto fail = [](ExactStatus st) { return ExactValue{st, Rational()}; };
  switch (node.kind) {
    case NodeKind::number: {
      auto r = Rational::from_decimal(node.text);
      if (!r) return fail(ExactStatus::overflow);
      return ExactValue{ExactStatus::ok, *r};
    }
    case NodeKind::neg: {
      auto a = eval_exact(*node.args[0]);
      if (a.status != ExactStatus::ok) return a;
      auto r = sub(Rational::integer(0), a.value);
      return r ? ExactValue{ExactStatus::ok, *r} : fail(ExactStatus::overflow);
    }
    case NodeKind::add:
    case NodeKind::mul: {
      auto a = eval_exact(*node.args[0]);
      if (a.status != ExactStatus::ok) return a;
      auto b = eval_exact(*node.args[1]);
      if (b.status != ExactStatus::ok) return b;
      auto r = node.kind == NodeKind::add ? add(a.value, b.value) : mul(a.value, b.value);
      return r ? ExactValue{ExactStatus::ok, *r} : fail(ExactStatus::overflow);
    }
    case NodeKind::pow: {
      auto b = eval_exact(*node.args[0]);
      if (b.status != ExactStatus::ok) return b;
      auto e = eval_exact(*node.args[1]);
      if (e.status != ExactStatus::ok) return e;
      if (!e.value.is_integer()) return fail(ExactStatus::not_rational);
      if (e.value.num() > 1000000 || e.value.num() < -1000000) return fail(ExactStatus::overflow);
      if (b.value.is_zero() && e.value.num() < 0) return fail(ExactStatus::not_rational);  // division by zero
      auto r = pow(b.value, (long long)e.value.num());
      return r ? ExactValue{ExactStatus::ok, *r} : fail(ExactStatus::overflow);
    }
    case NodeKind::factorial: {
      auto a = eval_exact(*node.args[0]);
      if (a.status != ExactStatus::ok) return a;
      if (!a.value.is_integer() || a.value.num() < 0) return fail(ExactStatus::not_rational);
      if (a.value.num() > 33) return fail(ExactStatus::overflow);
      Rational acc = Rational::integer(1);
      for (long long k = 2; k <= (long long)a.value.num(); ++k) acc = *mul(acc, Rational::integer(k));
      return ExactValue{ExactStatus::ok, acc};
    }
    case NodeKind::func:
      if (node.text == "abs") {
        auto a = eval_exact(*node.args[0]);
        if (a.status != ExactStatus::ok) return a;
        if (a.value.num() < 0) return ExactValue{ExactStatus::ok, *sub(Rational::integer(0), a.value)};
        return a;
      }
      return fail(ExactStatus::not_rational);
    default:
      return fail(ExactStatus::not_rational);
  }
  return out;
}

Complex eval_numeric(const Node& node, const std::function<Complex(const std::string&)>& symbol_value) {
  const long double inf = std::numeric_limits<long double>::infinity();
  switch (node.kind) {
    case NodeKind::number:
      return Complex(std::strtold(node.text.c_str(), nullptr), 0);
    case NodeKind::symbol:
      return symbol_value(node.text);
    case NodeKind::imaginary:
      return Complex(0, 1);
    case NodeKind::pi:
      return Complex(3.141592653589793238462643383279502884L, 0);
    case NodeKind::infinity:
      return Complex(inf, 0);
    case NodeKind::neg:
      return on_branch(-eval_numeric(*node.args[0], symbol_value));
    case NodeKind::add:
      return eval_numeric(*node.args[0], symbol_value) + eval_numeric(*node.args[1], symbol_value);
    case NodeKind::mul: {
      Complex a = eval_numeric(*node.args[0], symbol_value);
      Complex b = eval_numeric(*node.args[1], symbol_value);
      if (a.imag() == 0 && b.imag() == 0) return Complex(a.real() * b.real(), 0);
      return a * b;
    }
    case NodeKind::pow: {
      Complex b = on_branch(eval_numeric(*node.args[0], symbol_value));
      Complex e = eval_numeric(*node.args[1], symbol_value);
      if (e.imag() == 0 && std::fabs(e.real()) <= 64 && e.real() == std::floor(e.real())) {
        // Integer powers by repeated multiplication stay exact for small integers.
        long long k = (long long)e.real();
        Complex acc(1, 0), base = k < 0 ? Complex(1, 0) / b : b;
        for (long long j = 0; j < (k < 0 ? -k : k); ++j) acc *= base;
        return acc;
      }
      if (b.imag() == 0 && e.imag() == 0 && b.real() >= 0) return Complex(std::pow(b.real(), e.real()), 0);
      if (b.imag() == 0 && e.imag() == 0 && b.real() < 0) {
        // Real odd roots of negative numbers: (-8)^(1/3) = -2, as a reader expects.
        long double inv = 1.0L / e.real();
        long double r = std::round(inv);
        if (std::fabs(inv - r) < 1e-12L && std::fmod(std::fabs(r), 2.0L) == 1.0L)
          return Complex(-std::pow(-b.real(), e.real()), 0);
      }
      return std::pow(b, e);
    }
    case NodeKind::factorial: {
      Complex a = eval_numeric(*node.args[0], symbol_value);
      return Complex(factorial_ld(a.real()), 0);
    }
    case NodeKind::func: {
      Complex a = on_branch(eval_numeric(*node.args[0], symbol_value));
      const std::string& f = node.text;
      bool real = a.imag() == 0;
      if (f == "sqrt") return real && a.real() >= 0 ? Complex(std::sqrt(a.real()), 0) : std::sqrt(a);
      if (f == "abs") return Complex(std::abs(a), 0);
      if (f == "sin") return std::sin(a);
      if (f == "cos") return std::cos(a);
      if (f == "tan") return std::tan(a);
      if (f == "cot") return Complex(1, 0) / std::tan(a);
      if (f == "sec") return Complex(1, 0) / std::cos(a);
      if (f == "csc") return Complex(1, 0) / std::sin(a);
      if (f == "arcsin") return std::asin(a);
      if (f == "arccos") return std::acos(a);
      if (f == "arctan") return std::atan(a);
      if (f == "sinh") return std::sinh(a);
      if (f == "cosh") return std::cosh(a);
      if (f == "tanh") return std::tanh(a);
      if (f == "ln" || f == "log") return std::log(a);
      if (f == "exp") return std::exp(a);
      return Complex(std::nanl(""), 0);
    }
  }
  return Complex(std::nanl(""), 0);
}

void collect_symbols(const Node& node, std::set<std::string>& out) {
  if (node.kind == NodeKind::symbol) out.insert(node.text);
  for (const auto& a : node.args) collect_symbols(*a, out);
}

bool contains_kind(const Node& node, NodeKind kind) {
  if (node.kind == kind) return true;
  for (const auto& a : node.args)
    if (contains_kind(*a, kind)) return true;
  return false;
}

bool is_decimal_literal(const Node& node) {
  if (node.kind == NodeKind::neg) return is_decimal_literal(*node.args[0]);
  return node.kind == NodeKind::number && node.text.find('.') != std::string::npos;
}

bool is_unreduced_fraction(const Node& node) {
  if (node.kind == NodeKind::neg) return is_unreduced_fraction(*node.args[0]);
  if (node.kind != NodeKind::mul) return false;
  const Node& a = *node.args[0];
  const Node& b = *node.args[1];
  if (a.kind != NodeKind::number || b.kind != NodeKind::pow || b.text != "/") return false;
  const Node& d = *b.args[0];
  if (d.kind != NodeKind::number) return false;
  auto na = Rational::from_decimal(a.text);
  auto nd = Rational::from_decimal(d.text);
  if (!na || !nd || !na->is_integer() || !nd->is_integer() || nd->is_zero()) return false;
  auto q = Rational::make(na->num(), nd->num());
  return q && (q->num() != na->num() || q->den() != nd->num());
}

}  // namespace hb::suites::math
