#include "models/added_tokens.h"

#include <algorithm>

#include "models/normalizer.h"
#include "models/unicode_normalize.h"

namespace hb::models {
namespace {

// The character starting at byte `pos` and its length (an invalid byte is one raw character).
uint32_t char_at(std::string_view s, size_t pos, size_t& len) {
  auto cps = utf8_code_points(s.substr(pos, 4));
  uint32_t cp = cps.front();
  len = 1;
  if (cp < kRawByteBase) len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  return cp;
}

// The character ending at byte `end` (> 0) and its length.
uint32_t char_before(std::string_view s, size_t end, size_t& len) {
  size_t b = end - 1;
  while (b > 0 && end - b < 4 && (static_cast<unsigned char>(s[b]) & 0xC0) == 0x80) --b;
  uint32_t cp = char_at(s, b, len);
  if (b + len != end) {  // not a whole character: the last byte alone
    len = 1;
    return kRawByteBase + static_cast<unsigned char>(s[end - 1]);
  }
  return cp;
}

bool starts_with_word(std::string_view s) {
  size_t len;
  return !s.empty() && is_word_character(char_at(s, 0, len));
}

bool ends_with_word(std::string_view s) {
  size_t len;
  return !s.empty() && is_word_character(char_before(s, s.size(), len));
}

struct Match {
  size_t start, stop, token;
};

}  // namespace

void AddedVocabulary::build(const std::vector<AddedToken>& tokens, const Normalizer& normalizer) {
  tokens_.clear();
  raw_.clear();
  normalized_.clear();
  for (const auto& t : tokens) {
    if (t.content.empty()) continue;
    tokens_.push_back(t);
    if (t.normalized) {
      std::string text = normalizer.apply(t.content);
      if (!text.empty()) normalized_.push_back({text, tokens_.size() - 1});
    } else {
      raw_.push_back({t.content, tokens_.size() - 1});
    }
  }
  for (auto* list : {&raw_, &normalized_}) {
    std::stable_sort(list->begin(), list->end(), [](const Pattern& a, const Pattern& b) {
      unsigned char fa = static_cast<unsigned char>(a.text[0]), fb = static_cast<unsigned char>(b.text[0]);
      return fa != fb ? fa < fb : a.text.size() > b.text.size();
    });
  }
}

std::vector<AddedVocabulary::Split> AddedVocabulary::split(std::string_view text, bool normalized_tokens, bool parse_special) const {
  std::vector<Split> out;
  if (text.empty()) return out;
  const auto& pats = normalized_tokens ? normalized_ : raw_;
  // Leftmost-longest, non-overlapping matches (Aho-Corasick LeftmostLongest in `tokenizers`).
  std::vector<Match> matches;
  if (!pats.empty()) {
    size_t i = 0;
    while (i < text.size()) {
      unsigned char first = static_cast<unsigned char>(text[i]);
      auto it = std::lower_bound(pats.begin(), pats.end(), first,
                                 [](const Pattern& p, unsigned char f) { return static_cast<unsigned char>(p.text[0]) < f; });
      const Pattern* hit = nullptr;
      for (; it != pats.end() && static_cast<unsigned char>(it->text[0]) == first; ++it) {
        if (text.compare(i, it->text.size(), it->text) == 0) {
          hit = &*it;
          break;
        }
      }
      if (!hit) {
        ++i;
        continue;
      }
      matches.push_back({i, i + hit->text.size(), hit->token});
      i += hit->text.size();
    }
  }
  // AddedVocabulary::find_matches of `tokenizers`, step by step.
  size_t start_offset = 0;
  for (const auto& m : matches) {
    const AddedToken& t = tokens_[m.token];
    if (!parse_special && t.special) continue;
    size_t start = m.start, stop = m.stop;
    if (t.single_word) {
      bool start_space = start == 0 || !ends_with_word(text.substr(0, start));
      bool stop_space = stop == text.size() || !starts_with_word(text.substr(stop));
      if (!start_space || !stop_space) continue;
    }
    if (t.lstrip) {
      size_t p = start, len;
      while (p > 0 && is_unicode_whitespace(char_before(text, p, len))) p -= len;
      start = std::max(p, start_offset);
    }
    if (t.rstrip) {
      size_t len;
      while (stop < text.size() && is_unicode_whitespace(char_at(text, stop, len))) stop += len;
    }
    if (start_offset < start) out.push_back({text.substr(start_offset, start - start_offset), -1});
    out.push_back({text.substr(start, stop - start), t.id});
    start_offset = stop;
  }
  if (start_offset != text.size()) out.push_back({text.substr(start_offset), -1});
  return out;
}

}  // namespace hb::models
