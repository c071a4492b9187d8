#pragma once
// Tokenizers of the native engine (no LibTorch):
//  - byte-level BPE from a Hugging Face tokenizer.json (model type "BPE", a Split pre-tokenizer with the
//    Tekken or Llama-3 pattern followed by ByteLevel, merges as "a b" strings or pairs, ignore_merges,
//    added/special tokens matched literally in the input);
//  - a byte vocabulary for the random-weight presets (<unk>=0, <s>=1, </s>=2, byte b = 3 + b).
// Anything else fails at load with its name (an unsupported model type, normalizer or regex).
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "models/pretokenizer.h"

namespace hb::models {

class Tokenizer {
 public:
  // Reads a tokenizer.json (and, beside it, tokenizer_config.json for bos/eos names when present).
  static std::unique_ptr<Tokenizer> from_file(const std::string& tokenizer_json);
  static std::unique_ptr<Tokenizer> byte_level(int vocab_size);

  // parse_special: added tokens written in the text become their ids (HF's default).
  std::vector<int32_t> encode(std::string_view text, bool parse_special = true) const;
  std::string decode(const std::vector<int32_t>& ids, bool skip_special = false) const;
  // Raw bytes of one token (a special token's content); may be an incomplete UTF-8 sequence.
  const std::string& token_bytes(int32_t id) const;
  bool is_special(int32_t id) const;
  std::optional<int32_t> token_id(const std::string& content) const;  // added tokens and whole vocab entries
  int vocab_size() const { return static_cast<int>(id_to_bytes_.size()); }
  int32_t bos_id() const { return bos_id_; }
  int32_t eos_id() const { return eos_id_; }
  std::string kind() const { return byte_vocab_ ? "bytes" : pattern_ == PreTokenizerPattern::tekken ? "bpe-tekken" : "bpe-llama3"; }

 private:
  Tokenizer() = default;
  void bpe_word(std::string_view word, std::vector<int32_t>& out) const;
  void encode_plain(std::string_view text, std::vector<int32_t>& out) const;

  bool byte_vocab_ = false;
  PreTokenizerPattern pattern_ = PreTokenizerPattern::tekken;
  bool ignore_merges_ = false;
  std::vector<std::string> id_to_bytes_;
  std::vector<bool> special_;
  std::unordered_map<std::string, int32_t> bytes_to_id_;
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges_;  // (left,right) -> (rank, merged id)
  int32_t byte_id_[256];
  struct Added {
    std::string content;
    int32_t id;
  };
  std::map<unsigned char, std::vector<Added>> added_by_first_;  // longest first
  int32_t bos_id_ = -1, eos_id_ = -1;
};

// Streams text out of generated ids without ever splitting a UTF-8 character across chunks: bytes that
// do not yet form a complete character are held back until the next token completes them.
class IncrementalDetokenizer {
 public:
  IncrementalDetokenizer(const Tokenizer& tok, bool skip_special = true) : tok_(tok), skip_special_(skip_special) {}
  // Returns the newly complete text (possibly empty).
  std::string push(int32_t id);
  // Whatever is left at the end (invalid bytes become U+FFFD).
  std::string flush();

 private:
  const Tokenizer& tok_;
  bool skip_special_;
  std::string pending_;
};

}  // namespace hb::models
