#include "suites/math/modular_eval.h"

namespace hb::suites::math {
namespace {

constexpr uint64_t kPrimes[3] = {2305843009213693951ull /* 2^61 - 1 */, 1000000007ull, 998244353ull};

uint64_t mul_mod(uint64_t a, uint64_t b, uint64_t p) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(a) * b) % p);
}

uint64_t pow_mod(uint64_t b, unsigned __int128 e, uint64_t p) {
  uint64_t r = 1 % p;
  b %= p;
  while (e > 0) {
    if (e & 1) r = mul_mod(r, b, p);
    b = mul_mod(b, b, p);
    e >>= 1;
  }
  return r;
}

// Fermat inverse; nullopt for zero.
std::optional<uint64_t> inv_mod(uint64_t a, uint64_t p) {
  if (a % p == 0) return std::nullopt;
  return pow_mod(a, p - 2, p);
}

std::optional<uint64_t> eval(const Node& n, uint64_t p, int depth) {
  if (depth > 200) return std::nullopt;
  switch (n.kind) {
    case NodeKind::number: {
      uint64_t v = 0, scale = 1;
      bool frac = false;
      for (char c : n.text) {
        if (c == '.') {
          frac = true;
          continue;
        }
        if (c < '0' || c > '9') return std::nullopt;
        v = (mul_mod(v, 10, p) + static_cast<uint64_t>(c - '0')) % p;
        if (frac) scale = mul_mod(scale, 10, p);
      }
      auto inv = inv_mod(scale, p);
      if (!inv) return std::nullopt;
      return mul_mod(v, *inv, p);
    }
    case NodeKind::neg: {
      auto a = eval(*n.args[0], p, depth + 1);
      if (!a) return std::nullopt;
      return (p - *a) % p;
    }
    case NodeKind::add:
    case NodeKind::mul: {
      auto a = eval(*n.args[0], p, depth + 1);
      auto b = a ? eval(*n.args[1], p, depth + 1) : std::nullopt;
      if (!b) return std::nullopt;
      return n.kind == NodeKind::add ? (*a + *b) % p : mul_mod(*a, *b, p);
    }
    case NodeKind::pow: {
      ExactValue e = eval_exact(*n.args[1]);
      if (e.status != ExactStatus::ok || !e.value.is_integer()) return std::nullopt;
      auto b = eval(*n.args[0], p, depth + 1);
      if (!b) return std::nullopt;
      __int128 k = e.value.num();
      if (k >= 0) return pow_mod(*b, static_cast<unsigned __int128>(k), p);
      auto inv = inv_mod(*b, p);
      if (!inv) return std::nullopt;
      return pow_mod(*inv, static_cast<unsigned __int128>(-k), p);
    }
    case NodeKind::factorial: {
      ExactValue a = eval_exact(*n.args[0]);
      if (a.status != ExactStatus::ok || !a.value.is_integer() || a.value.num() < 0 || a.value.num() > 1000000)
        return std::nullopt;
      uint64_t r = 1;
      for (long long k = 2; k <= static_cast<long long>(a.value.num()); ++k) r = mul_mod(r, static_cast<uint64_t>(k) % p, p);
      return r;
    }
    default:
      return std::nullopt;
  }
}

}  // namespace

std::optional<Residues> eval_modular(const Node& node) {
  Residues r{};
  for (int k = 0; k < 3; ++k) {
    auto v = eval(node, kPrimes[k], 0);
    if (!v) return std::nullopt;
    r[k] = *v;
  }
  return r;
}

}  // namespace hb::suites::math
