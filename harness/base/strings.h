#pragma once
// Small string helpers shared by every module.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hb {

bool starts_with(std::string_view s, std::string_view prefix);
bool ends_with(std::string_view s, std::string_view suffix);
std::string_view trim(std::string_view s);
std::vector<std::string> split(std::string_view s, char sep);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
std::string to_lower(std::string_view s);
size_t edit_distance(std::string_view a, std::string_view b);
// "did you mean 'x'?" for the closest candidate within a small distance, else "".
std::string did_you_mean(std::string_view given, const std::vector<std::string>& candidates);
// The UTF-8 sequence starting at s[i]: its length (1-4) with *cp set, or 0 when the byte at i does not start a
// valid sequence (a stray continuation byte, a truncated sequence, an overlong form, a surrogate, a value past
// U+10FFFF). The one UTF-8 decoder of the project (JSON sanitising, the tokenizer's normalizers and
// pre-tokenizer).
size_t utf8_sequence(std::string_view s, size_t i, uint32_t* cp);
// Replaces bytes that are not valid UTF-8 (utf8_sequence) with U+FFFD so text can go into JSON.
std::string sanitize_utf8(std::string_view s);
// Length of the longest prefix of s that ends on a UTF-8 character boundary.
size_t utf8_complete_prefix(std::string_view s);

}  // namespace hb
