#pragma once
// The `normalizer` of a tokenizer.json, applied as HF `tokenizers` applies it: NFC, NFD, NFKC, NFKD,
// Lowercase, Strip (left/right), Replace with a literal pattern, Prepend, and Sequences of them. The
// tokenizer applies it to each piece of text left between added tokens that are not `normalized`
// (models/added_tokens.h), so Strip and Prepend act per piece, as in `tokenizers`.
// Anything else (BertNormalizer, StripAccents, Precompiled, Nmt, a Replace regex that is not a plain
// literal, ...) is refused at load with the file and the field, never approximated.
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace hb::models {

class Normalizer {
 public:
  Normalizer() = default;  // none: the text as it is
  // `normalizer` of tokenizer.json (null: none); `path` names the file in errors (Error{config}).
  static Normalizer from_json(const nlohmann::json& normalizer, const std::string& path);

  bool empty() const { return steps_.empty(); }
  std::string apply(std::string_view text) const;
  // "NFKC+Lowercase", "" for none.
  std::string describe() const;

 private:
  enum class Kind { nfc, nfd, nfkc, nfkd, lowercase, strip, replace, prepend };
  struct Step {
    Kind kind;
    bool left = false, right = false;  // strip
    std::string pattern, content;      // replace: pattern -> content; prepend: content
  };
  void add(const nlohmann::json& j, const std::string& path);
  std::vector<Step> steps_;
};

}  // namespace hb::models
