#pragma once
// The pre-tokenizer splits of byte-level BPE tokenizers, written by hand as a small scanner over Unicode
// general categories (models/unicode_table.inc) instead of a regex engine, because the patterns use a
// look-ahead (`\s+(?!\S)`) that RE2 lacks. Three patterns are known: Mistral-Nemo's "Tekken" pattern and
// Llama-3's, recognised by their exact text in a Split pre-tokenizer of tokenizer.json, and GPT-2's, which the
// ByteLevel pre-tokenizer applies itself when `use_regex` is true. The scanner reproduces the regex's
// leftmost-first alternation and greedy backtracking exactly (see pretokenizer.cpp).
#include <string>
#include <string_view>
#include <vector>

namespace hb::models {

enum class PreTokenizerPattern { tekken, llama3, gpt2 };

// Recognises a Split regex from tokenizer.json; throws Error{config} for an unknown pattern.
PreTokenizerPattern pretokenizer_pattern_from_regex(const std::string& regex);
const std::string& pretokenizer_regex(PreTokenizerPattern p);

// Splits `text` (UTF-8; invalid bytes are treated as single "other" characters) into pieces.
std::vector<std::string_view> pretokenize(std::string_view text, PreTokenizerPattern p);

}  // namespace hb::models
