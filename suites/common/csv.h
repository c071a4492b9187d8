#pragma once
// A small RFC 4180 CSV reader: quoted fields with embedded commas, newlines and doubled quotes; CRLF or LF.
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace hb::suites {

// Parses the whole text into rows of fields. Throws Error{data} on an unterminated quoted field.
std::vector<std::vector<std::string>> parse_csv(std::string_view text);

// Rows as maps keyed by the header row's names.
std::vector<std::map<std::string, std::string>> read_csv_records(const std::string& path);

}  // namespace hb::suites
