#pragma once
// Tokenizers of the native engine (no LibTorch):
//  - byte-level BPE from a Hugging Face tokenizer.json, with the ids the `tokenizers` library gives: model
//    type "BPE" (merges as "a b" strings or pairs, ignore_merges), added/special tokens split out with their
//    lstrip/rstrip/single_word/normalized flags (models/added_tokens.h), the normalizer (NFC/NFD/NFKC/NFKD,
//    Lowercase, Strip, Replace, Prepend, Sequence: models/normalizer.h) on the text between them, the
//    pre-tokenizer pipeline as written (Split with the Tekken or Llama-3 pattern, ByteLevel with
//    add_prefix_space and use_regex = the GPT-2 pattern, in a Sequence), and the post-processor's special
//    tokens (TemplateProcessing, Roberta/Bert, ByteLevel = none, Sequence) when asked for;
//  - a byte vocabulary for the random-weight presets (<unk>=0, <s>=1, </s>=2, byte b = 3 + b; BOS added).
// Anything else fails at load with the file and the offending field (an unsupported model type,
// normalizer, pre-tokenizer, regex or post-processor).
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "models/added_tokens.h"
#include "models/normalizer.h"
#include "models/pretokenizer.h"

namespace hb::models {

class Tokenizer {
 public:
  // Reads a tokenizer.json (and, beside it, tokenizer_config.json for bos/eos names when present).
  static std::unique_ptr<Tokenizer> from_file(const std::string& tokenizer_json);
  static std::unique_ptr<Tokenizer> byte_level(int vocab_size);

  // parse_special: special tokens written in the text become their ids (HF's default); false leaves them as
  // text (`tokenizers`' encode_special_tokens), while added tokens that are not special are still split out.
  // add_special_tokens: wrap the ids in the post-processor's special tokens (e.g. a BOS), as
  // `tokenizers` encode(text, add_special_tokens=True) does; nothing when the post-processor adds none.
  std::vector<int32_t> encode(std::string_view text, bool parse_special = true, bool add_special_tokens = false) const;
  // What add_special_tokens puts before and after the text's ids.
  const std::vector<int32_t>& special_prefix() const { return post_prefix_; }
  const std::vector<int32_t>& special_suffix() const { return post_suffix_; }
  std::string decode(const std::vector<int32_t>& ids, bool skip_special = false) const;
  // Raw bytes of one token (a special token's content); may be an incomplete UTF-8 sequence.
  const std::string& token_bytes(int32_t id) const;
  bool is_special(int32_t id) const;
  std::optional<int32_t> token_id(const std::string& content) const;  // added tokens and whole vocab entries
  int vocab_size() const { return static_cast<int>(id_to_bytes_.size()); }
  int32_t bos_id() const { return bos_id_; }
  int32_t eos_id() const { return eos_id_; }
  // "bytes" or "bpe-" + the pre-tokenizer patterns in order ("bpe-tekken", "bpe-llama3", "bpe-gpt2").
  std::string kind() const;

 private:
  Tokenizer() = default;
  void bpe_word(std::string_view word, std::vector<int32_t>& out) const;
  void encode_plain(std::string_view text, std::vector<int32_t>& out) const;

  // One step of the pre-tokenizer pipeline: a regex split, or ByteLevel's optional prefix space (applied to
  // every piece that does not start with a space, as `tokenizers` does) then its optional GPT-2 split.
  struct PreStep {
    bool prefix_space = false;
    bool split = false;
    PreTokenizerPattern pattern = PreTokenizerPattern::tekken;
  };
  void add_pre_steps(const nlohmann::json& pre, const std::string& path, bool& has_byte_level);
  void set_post_processor(const nlohmann::json& post, const std::string& path);

  bool byte_vocab_ = false;
  std::vector<PreStep> pre_steps_;
  std::vector<int32_t> post_prefix_, post_suffix_;
  bool ignore_merges_ = false;
  std::vector<std::string> id_to_bytes_;
  std::vector<bool> special_;
  std::unordered_map<std::string, int32_t> bytes_to_id_;
  std::unordered_map<uint64_t, std::pair<int32_t, int32_t>> merges_;  // (left,right) -> (rank, merged id)
  int32_t byte_id_[256];
  Normalizer normalizer_;
  AddedVocabulary added_;
  std::unordered_map<std::string, int32_t> added_ids_;  // content -> id
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
