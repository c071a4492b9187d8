#include "suites/math/rational.h"

#include <algorithm>

namespace hb::suites::math {
namespace {

__int128 gcd128(__int128 a, __int128 b) {
  if (a < 0) a = -a;
  if (b < 0) b = -b;
  while (b != 0) {
    __int128 t = a % b;
    a = b;
    b = t;
  }
  return a;
}

// The most negative value has no positive counterpart; keep every value strictly inside the range.
constexpr __int128 kMax = (__int128)(((unsigned __int128)1 << 127) - 1);

bool in_range(__int128 v) { return v <= kMax && v >= -kMax; }

}  // namespace

std::optional<Rational> Rational::make(__int128 num, __int128 den) {
  if (den == 0 || !in_range(num) || !in_range(den)) return std::nullopt;
  if (den < 0) {
    num = -num;
    den = -den;
  }
  __int128 g = gcd128(num, den);
  if (g > 1) {
    num /= g;
    den /= g;
  }
  if (num == 0) den = 1;
  return Rational(num, den);
}

std::optional<Rational> Rational::from_decimal(std::string_view s) {
  __int128 num = 0, den = 1;
  bool seen_dot = false, any_digit = false, negative = false;
  if (!s.empty() && s[0] == '-') {
    negative = true;
    s.remove_prefix(1);
  }
  for (char c : s) {
    if (c == '.') {
      if (seen_dot) return std::nullopt;
      seen_dot = true;
      continue;
    }
    if (c < '0' || c > '9') return std::nullopt;
    any_digit = true;
    if (__builtin_mul_overflow(num, (__int128)10, &num) || __builtin_add_overflow(num, (__int128)(c - '0'), &num))
      return std::nullopt;
    if (seen_dot && __builtin_mul_overflow(den, (__int128)10, &den)) return std::nullopt;
  }
  if (!any_digit) return std::nullopt;
  return make(negative ? -num : num, den);
}

long double Rational::to_long_double() const { return (long double)num_ / (long double)den_; }

static std::string i128_to_string(__int128 v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  unsigned __int128 u = neg ? (unsigned __int128)(-(v + 1)) + 1 : (unsigned __int128)v;
  std::string out;
  while (u > 0) {
    out.push_back(char('0' + int(u % 10)));
    u /= 10;
  }
  if (neg) out.push_back('-');
  std::reverse(out.begin(), out.end());
  return out;
}

std::string Rational::to_string() const {
  return den_ == 1 ? i128_to_string(num_) : i128_to_string(num_) + "/" + i128_to_string(den_);
}

std::optional<Rational> add(const Rational& a, const Rational& b) {
  __int128 x, y, d;
  if (__builtin_mul_overflow(a.num_, b.den_, &x) || __builtin_mul_overflow(b.num_, a.den_, &y) ||
      __builtin_add_overflow(x, y, &x) || __builtin_mul_overflow(a.den_, b.den_, &d))
    return std::nullopt;
  return Rational::make(x, d);
}

std::optional<Rational> sub(const Rational& a, const Rational& b) {
  return add(a, Rational(-b.num_, b.den_));
}

std::optional<Rational> mul(const Rational& a, const Rational& b) {
  // Cross-reduce first so that products of reduced fractions overflow as late as possible.
  __int128 g1 = gcd128(a.num_, b.den_), g2 = gcd128(b.num_, a.den_);
  if (g1 == 0) g1 = 1;
  if (g2 == 0) g2 = 1;
  __int128 n, d;
  if (__builtin_mul_overflow(a.num_ / g1, b.num_ / g2, &n) || __builtin_mul_overflow(a.den_ / g2, b.den_ / g1, &d))
    return std::nullopt;
  return Rational::make(n, d);
}

std::optional<Rational> div(const Rational& a, const Rational& b) {
  if (b.num_ == 0) return std::nullopt;
  auto inv = Rational::make(b.den_, b.num_);
  if (!inv) return std::nullopt;
  return mul(a, *inv);
}

std::optional<Rational> pow(const Rational& a, long long e) {
  if (e == 0) return Rational::integer(1);
  if (a.num_ == 0) return e > 0 ? std::optional<Rational>(Rational::integer(0)) : std::nullopt;
  if (e > 4096 || e < -4096) {
    // Only 0, 1 and -1 stay representable.
    if (a.den_ == 1 && (a.num_ == 1 || a.num_ == -1)) return Rational(((e % 2) != 0 && a.num_ == -1) ? -1 : 1, 1);
    return std::nullopt;
  }
  Rational base = a;
  if (e < 0) {
    auto inv = Rational::make(a.den_, a.num_);
    if (!inv) return std::nullopt;
    base = *inv;
    e = -e;
  }
  Rational result = Rational::integer(1);
  while (e > 0) {
    if (e & 1) {
      auto r = mul(result, base);
      if (!r) return std::nullopt;
      result = *r;
    }
    e >>= 1;
    if (e > 0) {
      auto b2 = mul(base, base);
      if (!b2) return std::nullopt;
      base = *b2;
    }
  }
  return result;
}

}  // namespace hb::suites::math
