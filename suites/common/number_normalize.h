#pragma once
// Normalises numeric answers the way GSM8K-style graders need: thousands separators, currency signs,
// a leading '+', unicode minus, trailing periods and zeros after a decimal point, percent signs.
#include <optional>
#include <string>
#include <string_view>

namespace hb::suites {

// "1,234.50" -> "1234.5", "$18." -> "18", "−3" -> "-3", "+7" -> "7", "2.000" -> "2", "50%" -> "50".
// Returns nullopt when the text is not a plain number after normalisation.
std::optional<std::string> normalize_number(std::string_view text);

// The last number in the text (digits with optional sign, thousands separators and decimals), normalised.
std::optional<std::string> last_number(std::string_view text);

// True when both parse as the same decimal number (exact comparison of normalised decimal strings).
bool numbers_equal(std::string_view a, std::string_view b);

}  // namespace hb::suites
