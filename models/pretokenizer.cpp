#include "models/pretokenizer.h"

#include <algorithm>
#include <cstdint>

#include "harness/base/error.h"
#include "harness/base/strings.h"

namespace hb::models {
namespace {

struct Range {
  uint32_t first, last;
  uint8_t cls;
};
const Range kTable[] = {
#include "models/unicode_table.inc"
};
enum : uint8_t { kOther = 0, kLu = 1, kLl = 2, kLt = 3, kLm = 4, kLo = 5, kM = 6, kN = 7 };

uint8_t category(uint32_t cp) {
  const Range* end = kTable + sizeof(kTable) / sizeof(kTable[0]);
  const Range* it = std::upper_bound(kTable, end, cp, [](uint32_t v, const Range& r) { return v < r.first; });
  if (it == kTable) return kOther;
  --it;
  return cp <= it->last ? it->cls : kOther;
}

struct Char {
  uint32_t cp;
  uint32_t byte;  // offset of its first byte
  uint8_t cls;
};

bool is_letter(const Char& c) { return c.cls >= kLu && c.cls <= kLo; }
bool is_number(const Char& c) { return c.cls == kN; }
bool is_upperish(const Char& c) { return c.cls == kLu || c.cls == kLt || c.cls == kLm || c.cls == kLo || c.cls == kM; }
bool is_lowerish(const Char& c) { return c.cls == kLl || c.cls == kLm || c.cls == kLo || c.cls == kM; }
bool is_space(const Char& c) {
  uint32_t v = c.cp;
  return (v >= 0x09 && v <= 0x0D) || v == 0x20 || v == 0x85 || v == 0xA0 || v == 0x1680 || (v >= 0x2000 && v <= 0x200A) ||
         v == 0x2028 || v == 0x2029 || v == 0x202F || v == 0x205F || v == 0x3000;
}
bool is_crlf(const Char& c) { return c.cp == '\r' || c.cp == '\n'; }
// [^\r\n\p{L}\p{N}]
bool is_prefix(const Char& c) { return !is_crlf(c) && !is_letter(c) && !is_number(c); }
// [^\s\p{L}\p{N}]
bool is_punct(const Char& c) { return !is_space(c) && !is_letter(c) && !is_number(c); }

// Invalid UTF-8 (utf8_sequence) becomes one U+FFFD of class "other" per byte.
std::vector<Char> decode(std::string_view s) {
  std::vector<Char> out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    uint32_t cp = 0;
    size_t len = hb::utf8_sequence(s, i, &cp);
    Char c{cp, static_cast<uint32_t>(i), 0};
    if (len == 0) {
      c.cp = 0xFFFD;
      c.cls = kOther;
      len = 1;
    } else {
      c.cls = category(cp);
    }
    out.push_back(c);
    i += len;
  }
  return out;
}

using Chars = std::vector<Char>;
constexpr size_t kFail = SIZE_MAX;

template <typename Pred>
size_t run(const Chars& c, size_t i, Pred p) {
  while (i < c.size() && p(c[i])) ++i;
  return i;
}

// `[^\r\n\p{L}\p{N}]?` followed by `body`, trying with the optional prefix first (greedy), then without.
template <typename Body>
size_t with_optional_prefix(const Chars& c, size_t i, Body body) {
  if (i < c.size() && is_prefix(c[i])) {
    size_t e = body(i + 1);
    if (e != kFail) return e;
  }
  return body(i);
}

// Whitespace alternatives shared by both patterns: \s*[\r\n]+ | \s+(?!\S) | \s+
size_t match_whitespace(const Chars& c, size_t i) {
  if (!is_space(c[i])) return kFail;
  size_t e = run(c, i, is_space);
  for (size_t k = e; k > i; --k) {
    if (is_crlf(c[k - 1])) return k;  // the last \r or \n of the run ends \s*[\r\n]+
  }
  if (e == c.size()) return e;  // \s+(?!\S) at the end of the text
  if (e - 1 > i) return e - 1;  // leave the last space to the next piece
  return e;                     // \s+
}

size_t match_tekken(const Chars& c, size_t i) {
  // [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+
  size_t e = with_optional_prefix(c, i, [&](size_t s) {
    size_t j = run(c, s, is_upperish);
    for (size_t k = j + 1; k-- > s;) {  // backtrack the greedy upper run
      if (k < c.size() && is_lowerish(c[k])) return run(c, k, is_lowerish);
    }
    return kFail;
  });
  if (e != kFail) return e;
  // [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*
  e = with_optional_prefix(c, i, [&](size_t s) {
    size_t j = run(c, s, is_upperish);
    return j == s ? kFail : run(c, j, is_lowerish);
  });
  if (e != kFail) return e;
  if (is_number(c[i])) return i + 1;  // \p{N}
  // ' ?[^\s\p{L}\p{N}]+[\r\n/]*'
  for (size_t s : {i + (c[i].cp == ' ' ? 1 : 0), i}) {
    size_t j = run(c, s, is_punct);
    if (j > s) return run(c, j, [](const Char& x) { return is_crlf(x) || x.cp == '/'; });
    if (s == i) break;
  }
  return match_whitespace(c, i);
}

uint32_t lower_ascii(uint32_t cp) { return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp; }

size_t match_llama3(const Chars& c, size_t i) {
  // (?i:'s|'t|'re|'ve|'m|'ll|'d)
  if (c[i].cp == '\'') {
    for (const char* suf : {"s", "t", "re", "ve", "m", "ll", "d"}) {
      size_t k = 0;
      while (suf[k] && i + 1 + k < c.size() && lower_ascii(c[i + 1 + k].cp) == uint32_t(suf[k])) ++k;
      if (!suf[k]) return i + 1 + k;
    }
  }
  // [^\r\n\p{L}\p{N}]?\p{L}+
  size_t e = with_optional_prefix(c, i, [&](size_t s) {
    size_t j = run(c, s, is_letter);
    return j == s ? kFail : j;
  });
  if (e != kFail) return e;
  // \p{N}{1,3}
  if (is_number(c[i])) {
    size_t j = i;
    while (j < c.size() && j < i + 3 && is_number(c[j])) ++j;
    return j;
  }
  // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
  for (size_t s : {i + (c[i].cp == ' ' ? 1 : 0), i}) {
    size_t j = run(c, s, is_punct);
    if (j > s) return run(c, j, is_crlf);
    if (s == i) break;
  }
  return match_whitespace(c, i);
}

// GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ (case-sensitive contractions,
// no special treatment of \r\n).
size_t match_gpt2(const Chars& c, size_t i) {
  if (c[i].cp == '\'') {
    for (const char* suf : {"s", "t", "re", "ve", "m", "ll", "d"}) {
      size_t k = 0;
      while (suf[k] && i + 1 + k < c.size() && c[i + 1 + k].cp == uint32_t(suf[k])) ++k;
      if (!suf[k]) return i + 1 + k;
    }
  }
  // ` ?X+` for X = letter, number, punctuation: the optional space first (greedy), then without it.
  const size_t after_space = i + (c[i].cp == ' ' ? 1 : 0);
  for (auto cls : {is_letter, is_number, is_punct}) {
    for (size_t s : {after_space, i}) {
      size_t j = run(c, s, cls);
      if (j > s) return j;
      if (s == i) break;
    }
  }
  if (!is_space(c[i])) return kFail;
  size_t e = run(c, i, is_space);
  if (e == c.size()) return e;  // \s+(?!\S) at the end of the text
  if (e - 1 > i) return e - 1;  // leave the last space to the next piece
  return e;                     // \s+
}

const std::string kTekken =
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+|[^\\r\\n\\p{L}\\p{N}]?"
    "[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|"
    "\\s+(?!\\S)|\\s+";
const std::string kLlama3 =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
    "\\s+(?!\\S)|\\s+";
const std::string kGpt2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

}  // namespace

PreTokenizerPattern pretokenizer_pattern_from_regex(const std::string& regex) {
  if (regex == kTekken) return PreTokenizerPattern::tekken;
  if (regex == kLlama3) return PreTokenizerPattern::llama3;
  if (regex == kGpt2) return PreTokenizerPattern::gpt2;
  throw Error(ErrorCode::config, "unsupported pre-tokenizer regex '" + regex.substr(0, 60) +
                                     "...'; supported: the Mistral-Nemo (Tekken), Llama-3 and GPT-2 patterns");
}

const std::string& pretokenizer_regex(PreTokenizerPattern p) {
  return p == PreTokenizerPattern::tekken ? kTekken : p == PreTokenizerPattern::llama3 ? kLlama3 : kGpt2;
}

std::vector<std::string_view> pretokenize(std::string_view text, PreTokenizerPattern p) {
  std::vector<std::string_view> out;
  Chars c = decode(text);
  size_t i = 0;
  while (i < c.size()) {
    size_t e = p == PreTokenizerPattern::tekken   ? match_tekken(c, i)
               : p == PreTokenizerPattern::llama3 ? match_llama3(c, i)
                                                  : match_gpt2(c, i);
    if (e == kFail || e <= i) e = i + 1;
    size_t b0 = c[i].byte, b1 = e < c.size() ? c[e].byte : text.size();
    out.push_back(text.substr(b0, b1 - b0));
    i = e;
  }
  return out;
}

}  // namespace hb::models
