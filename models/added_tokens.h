#pragma once
// The added tokens of a tokenizer.json (`added_tokens`), split out of the text as HF `tokenizers`'
// AddedVocabulary does:
//  - two matchers, leftmost-longest and non-overlapping: tokens with `normalized: false` are found in the raw
//    text first; the text between them is normalized, then tokens with `normalized: true` (their content
//    normalized by the same normalizer) are found in that;
//  - per match: `single_word` drops a match that touches a word character (regex \w) on either side;
//    `lstrip` / `rstrip` make the token swallow the whitespace before / after it (never text before the end
//    of the previous split); a dropped match is not searched again inside;
//  - with special-token parsing off (`tokenizers`' encode_special_tokens), special tokens are left in the
//    text; added tokens that are not special are still split out.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hb::models {

class Normalizer;

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = false;
  bool lstrip = false, rstrip = false, single_word = false;
  bool normalized = false;
};

class AddedVocabulary {
 public:
  // Tokens with empty content are ignored; `normalizer` normalizes the contents of `normalized` tokens.
  void build(const std::vector<AddedToken>& tokens, const Normalizer& normalizer);

  struct Split {
    std::string_view text;  // a slice of the searched text
    int32_t id;             // the added token, or -1 for text to tokenize
  };
  // Splits `text` with the raw (normalized = false) or the normalized tokens. Empty text gives no split.
  std::vector<Split> split(std::string_view text, bool normalized_tokens, bool parse_special) const;

  bool has_normalized() const { return !normalized_.empty(); }
  const std::vector<AddedToken>& tokens() const { return tokens_; }

 private:
  struct Pattern {
    std::string text;
    size_t token;  // index into tokens_
  };
  std::vector<AddedToken> tokens_;
  std::vector<Pattern> raw_, normalized_;  // each sorted by first byte, then longest first
};

}  // namespace hb::models
