#pragma once
// Whole-file and JSONL helpers with errors that name the path.
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

namespace hb {

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& content);  // atomically, via a temp file + rename
nlohmann::json read_json_file(const std::string& path);
// Calls fn(line_number, json) for each non-empty line; a malformed line throws Error{data} with file:line.
void for_each_jsonl(const std::string& path, const std::function<void(size_t, const nlohmann::json&)>& fn);
bool file_exists(const std::string& path);

}  // namespace hb
