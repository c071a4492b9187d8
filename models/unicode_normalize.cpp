#include "models/unicode_normalize.h"

#include <algorithm>
#include <iterator>

#include "harness/base/strings.h"

namespace hb::models {
namespace {

#include "models/unicode_normalize_table.inc"

const uint32_t kWordRanges[][2] = {
#include "models/unicode_word_table.inc"
};

// Hangul syllables (Unicode 3.12).
constexpr uint32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr uint32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount, kSCount = kLCount * kNCount;

uint8_t combining_class(uint32_t cp) {
  auto end = std::end(kCombiningClass);
  auto it = std::upper_bound(std::begin(kCombiningClass), end, cp, [](uint32_t v, const uint32_t (&r)[3]) { return v < r[0]; });
  if (it == std::begin(kCombiningClass)) return 0;
  --it;
  return cp <= (*it)[1] ? static_cast<uint8_t>((*it)[2]) : 0;
}

void decompose(uint32_t cp, bool compat, std::vector<uint32_t>& out) {
  if (cp >= kSBase && cp < kSBase + kSCount) {
    uint32_t s = cp - kSBase;
    out.push_back(kLBase + s / kNCount);
    out.push_back(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount) out.push_back(kTBase + s % kTCount);
    return;
  }
  auto end = std::end(kDecomposition);
  auto it = std::lower_bound(std::begin(kDecomposition), end, cp, [](const uint32_t (&r)[5], uint32_t v) { return r[0] < v; });
  if (it == end || (*it)[0] != cp) {
    out.push_back(cp);
    return;
  }
  uint32_t off = compat ? (*it)[3] : (*it)[1], len = compat ? (*it)[4] : (*it)[2];
  if (len == 0) {
    out.push_back(cp);
    return;
  }
  out.insert(out.end(), kDecompositionPool + off, kDecompositionPool + off + len);
}

// The primary composite of (a, b), or 0.
uint32_t compose_pair(uint32_t a, uint32_t b) {
  if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount) {
    return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
  }
  if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase && b < kTBase + kTCount) {
    return a + (b - kTBase);
  }
  auto end = std::end(kComposition);
  auto it = std::lower_bound(std::begin(kComposition), end, std::make_pair(a, b), [](const uint32_t (&r)[3], const std::pair<uint32_t, uint32_t>& v) {
    return r[0] < v.first || (r[0] == v.first && r[1] < v.second);
  });
  return it != end && (*it)[0] == a && (*it)[1] == b ? (*it)[2] : 0;
}

// Stable sort of every run of non-starters by combining class.
void canonical_order(std::vector<uint32_t>& cps) {
  size_t i = 0;
  while (i < cps.size()) {
    if (combining_class(cps[i]) == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < cps.size() && combining_class(cps[j]) != 0) ++j;
    std::stable_sort(cps.begin() + i, cps.begin() + j, [](uint32_t x, uint32_t y) { return combining_class(x) < combining_class(y); });
    i = j;
  }
}

// Canonical composition (UAX #15 D117): each character joins the last starter unless blocked.
std::vector<uint32_t> compose(const std::vector<uint32_t>& cps) {
  std::vector<uint32_t> out;
  out.reserve(cps.size());
  size_t starter = SIZE_MAX;
  for (uint32_t c : cps) {
    uint8_t cc = combining_class(c);
    if (starter != SIZE_MAX) {
      bool adjacent = out.size() - 1 == starter;
      uint8_t last = adjacent ? 0 : combining_class(out.back());
      if (adjacent || (last != 0 && last < cc)) {
        if (uint32_t comp = compose_pair(out[starter], c)) {
          out[starter] = comp;
          continue;
        }
      }
    }
    if (cc == 0) starter = out.size();
    out.push_back(c);
  }
  return out;
}

uint32_t simple_lowercase(uint32_t cp) {
  auto end = std::end(kLowercase);
  auto it = std::lower_bound(std::begin(kLowercase), end, cp, [](const uint32_t (&r)[2], uint32_t v) { return r[0] < v; });
  return it != end && (*it)[0] == cp ? (*it)[1] : cp;
}

}  // namespace

std::vector<uint32_t> utf8_code_points(std::string_view s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    uint32_t cp = 0;
    const size_t len = hb::utf8_sequence(s, i, &cp);
    if (len == 0) {
      out.push_back(kRawByteBase + static_cast<unsigned char>(s[i]));
      ++i;
      continue;
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

void append_utf8(uint32_t cp, std::string& out) {
  if (cp >= kRawByteBase) {
    out.push_back(static_cast<char>(cp - kRawByteBase));
  } else if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string to_utf8(const std::vector<uint32_t>& cps) {
  std::string out;
  out.reserve(cps.size());
  for (uint32_t cp : cps) append_utf8(cp, out);
  return out;
}

std::string unicode_normalize(std::string_view text, NormalForm form) {
  bool compat = form == NormalForm::nfkc || form == NormalForm::nfkd;
  std::vector<uint32_t> d;
  d.reserve(text.size());
  for (uint32_t cp : utf8_code_points(text)) decompose(cp, compat, d);
  canonical_order(d);
  if (form == NormalForm::nfc || form == NormalForm::nfkc) return to_utf8(compose(d));
  return to_utf8(d);
}

std::string unicode_lowercase(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (uint32_t cp : utf8_code_points(text)) {
    if (cp == 0x130) {  // the one unconditional multi-character lowercase mapping (SpecialCasing)
      out += "i\xCC\x87";
      continue;
    }
    append_utf8(cp < kRawByteBase ? simple_lowercase(cp) : cp, out);
  }
  return out;
}

bool is_unicode_whitespace(uint32_t v) {
  return (v >= 0x09 && v <= 0x0D) || v == 0x20 || v == 0x85 || v == 0xA0 || v == 0x1680 || (v >= 0x2000 && v <= 0x200A) ||
         v == 0x2028 || v == 0x2029 || v == 0x202F || v == 0x205F || v == 0x3000;
}

bool is_word_character(uint32_t cp) {
  auto end = std::end(kWordRanges);
  auto it = std::upper_bound(std::begin(kWordRanges), end, cp, [](uint32_t v, const uint32_t (&r)[2]) { return v < r[0]; });
  if (it == std::begin(kWordRanges)) return false;
  --it;
  return cp <= (*it)[1];
}

}  // namespace hb::models
