#pragma once
// An exact rational number on __int128 with overflow detection. Every operation returns nullopt when a
// numerator or denominator would leave the 127-bit range, so callers fall back to numeric comparison
// instead of silently wrapping. Grading never needs larger exact values (MATH answers fit easily).
#include <optional>
#include <string>
#include <string_view>

namespace hb::suites::math {

class Rational {
 public:
  Rational() = default;
  static std::optional<Rational> make(__int128 num, __int128 den);
  static Rational integer(long long v) { return Rational(v, 1); }
  // "12", "12.50", ".5" -> exact value; nullopt on overflow or a malformed literal.
  static std::optional<Rational> from_decimal(std::string_view digits);

  __int128 num() const { return num_; }
  __int128 den() const { return den_; }
  bool is_integer() const { return den_ == 1; }
  bool is_zero() const { return num_ == 0; }
  long double to_long_double() const;
  std::string to_string() const;  // "3/4", "-2"

  friend std::optional<Rational> add(const Rational& a, const Rational& b);
  friend std::optional<Rational> sub(const Rational& a, const Rational& b);
  friend std::optional<Rational> mul(const Rational& a, const Rational& b);
  friend std::optional<Rational> div(const Rational& a, const Rational& b);  // nullopt for b == 0
  friend std::optional<Rational> pow(const Rational& a, long long exponent);
  friend bool operator==(const Rational& a, const Rational& b) { return a.num_ == b.num_ && a.den_ == b.den_; }

 private:
  Rational(__int128 n, __int128 d) : num_(n), den_(d) {}
  __int128 num_ = 0;
  __int128 den_ = 1;
};

}  // namespace hb::suites::math
