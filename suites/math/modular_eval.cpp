#include "suites/math/modular_eval.h"

namespace hb::suites::math {
namespace {

constexpr uint64_t kMersenne61 = (1ull << 61) - 1;

// Factorial steps (multiplications) one expression may spend per prime: 10^6! alone fits, a hostile
// answer of a hundred such factorials does not (it took seconds before this bound).
constexpr long long kFactorialBudget = 1000000;
static_assert(kFactorialBudget < 998244353);

// a, b < P. The modulus is a template constant so that the reduction is a multiply and shift, not a
// 128-bit division: 2^61 - 1 reduces by folding, the 30-bit primes' products fit in 64 bits.
template <uint64_t P>
uint64_t mul_mod(uint64_t a, uint64_t b) {
  if constexpr (P == kMersenne61) {
    unsigned __int128 x = static_cast<unsigned __int128>(a) * b;
    uint64_t r = static_cast<uint64_t>(x & P) + static_cast<uint64_t>(x >> 61);
    return r >= P ? r - P : r;
  } else {
    static_assert(P < (1ull << 32));
    return a * b % P;
  }
}

template <uint64_t P>
uint64_t pow_mod(uint64_t b, unsigned __int128 e) {
  uint64_t r = 1;
  b %= P;
  while (e > 0) {
    if (e & 1) r = mul_mod<P>(r, b);
    b = mul_mod<P>(b, b);
    e >>= 1;
  }
  return r;
}

// Fermat inverse; nullopt for zero.
template <uint64_t P>
std::optional<uint64_t> inv_mod(uint64_t a) {
  if (a % P == 0) return std::nullopt;
  return pow_mod<P>(a, P - 2);
}

template <uint64_t P>
struct Evaluator {
  long long factorial_steps_left = kFactorialBudget;

  std::optional<uint64_t> eval(const Node& n, int depth) {
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
          v = (mul_mod<P>(v, 10) + static_cast<uint64_t>(c - '0')) % P;
          if (frac) scale = mul_mod<P>(scale, 10);
        }
        auto inv = inv_mod<P>(scale);
        if (!inv) return std::nullopt;
        return mul_mod<P>(v, *inv);
      }
      case NodeKind::neg: {
        auto a = eval(*n.args[0], depth + 1);
        if (!a) return std::nullopt;
        return (P - *a) % P;
      }
      case NodeKind::add:
      case NodeKind::mul: {
        auto a = eval(*n.args[0], depth + 1);
        auto b = a ? eval(*n.args[1], depth + 1) : std::nullopt;
        if (!b) return std::nullopt;
        return n.kind == NodeKind::add ? (*a + *b) % P : mul_mod<P>(*a, *b);
      }
      case NodeKind::pow: {
        ExactValue e = eval_exact(*n.args[1]);
        if (e.status != ExactStatus::ok || !e.value.is_integer()) return std::nullopt;
        auto b = eval(*n.args[0], depth + 1);
        if (!b) return std::nullopt;
        __int128 k = e.value.num();
        if (k >= 0) return pow_mod<P>(*b, static_cast<unsigned __int128>(k));
        auto inv = inv_mod<P>(*b);
        if (!inv) return std::nullopt;
        return pow_mod<P>(*inv, static_cast<unsigned __int128>(-k));
      }
      case NodeKind::factorial: {
        ExactValue a = eval_exact(*n.args[0]);
        if (a.status != ExactStatus::ok || !a.value.is_integer() || a.value.num() < 0 ||
            a.value.num() > factorial_steps_left)
          return std::nullopt;
        const long long count = static_cast<long long>(a.value.num());
        factorial_steps_left -= count;
        // Four independent products: the chain of dependent multiplications is the cost, not their count.
        // count <= kFactorialBudget < P, so k needs no reduction.
        uint64_t r[4] = {1, 1, 1, 1};
        long long k = 1;
        for (; k + 3 <= count; k += 4)
          for (int j = 0; j < 4; ++j) r[j] = mul_mod<P>(r[j], static_cast<uint64_t>(k + j));
        for (; k <= count; ++k) r[0] = mul_mod<P>(r[0], static_cast<uint64_t>(k));
        return mul_mod<P>(mul_mod<P>(r[0], r[1]), mul_mod<P>(r[2], r[3]));
      }
      default:
        return std::nullopt;
    }
  }
};

template <uint64_t P>
std::optional<uint64_t> residue(const Node& node) {
  return Evaluator<P>{}.eval(node, 0);
}

}  // namespace

std::optional<Residues> eval_modular(const Node& node) {
  auto a = residue<kMersenne61>(node);
  auto b = a ? residue<1000000007ull>(node) : std::nullopt;
  auto c = b ? residue<998244353ull>(node) : std::nullopt;
  if (!c) return std::nullopt;
  return Residues{*a, *b, *c};
}

}  // namespace hb::suites::math
