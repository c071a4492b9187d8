#pragma once
// Deterministic number and text formatting for reports: no locale, fixed precision, no negative zero,
// so golden files are byte-exact on every machine.
#include <optional>
#include <string>
#include <string_view>

namespace hb::reports {

// Fixed-point with `digits` decimals ("0.7500"); NaN/inf print as "n/a"; -0.0000 prints as "0.0000".
std::string fixed(double v, int digits);
std::string fixed(const std::optional<double>& v, int digits);
// Rounds to `digits` decimals for JSON output (so dumps are stable); NaN stays NaN.
double rounded(double v, int digits);
// Percent with `digits` decimals and a sign when asked: "+1.2%" / "-3.0%".
std::string percent(double fraction, int digits, bool sign = false);
// Escapes a markdown table cell (| and newlines).
std::string md_cell(std::string_view s);
// Escapes text for XML/HTML element content and attribute values.
std::string xml_escape(std::string_view s);

}  // namespace hb::reports
