#pragma once
// Exact comparison of rational values too large for Rational (__int128): the expression is evaluated
// modulo three primes. Two values with the same residues are equal (a false match needs a difference
// divisible by all three, about 2^-120 for unrelated values), so 2^{200} and 2^{200}+1 differ where a
// floating tolerance says equal. Only + - * / integer powers, factorials and decimal literals are taken.
#include <array>
#include <cstdint>
#include <optional>

#include "suites/math/math_expr.h"

namespace hb::suites::math {

using Residues = std::array<uint64_t, 3>;

// nullopt when the expression is not a rational built from those operations, or divides by zero mod p.
std::optional<Residues> eval_modular(const Node& node);

}  // namespace hb::suites::math
