#include "suites/common/csv.h"

#include "harness/base/error.h"
#include "harness/base/files.h"

namespace hb::suites {

std::vector<std::vector<std::string>> parse_csv(std::string_view text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, field_started = false;
  size_t i = 0;
  auto end_field = [&] {
    row.push_back(std::move(field));
    field.clear();
    field_started = false;
  };
  while (i < text.size()) {
    char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        ++i;
        continue;
      }
      field += c;
      ++i;
      continue;
    }
    if (c == '"' && !field_started) {
      quoted = true;
      field_started = true;
      ++i;
      continue;
    }
    if (c == ',') {
      end_field();
      ++i;
      continue;
    }
    if (c == '\r' || c == '\n') {
      end_field();
      rows.push_back(std::move(row));
      row.clear();
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      ++i;
      continue;
    }
    field += c;
    field_started = true;
    ++i;
  }
  if (quoted) throw Error(ErrorCode::data, "CSV ends inside a quoted field; the file is truncated");
  if (field_started || !field.empty() || !row.empty()) {
    end_field();
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<std::map<std::string, std::string>> read_csv_records(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  try {
    rows = parse_csv(read_file(path));
  } catch (Error& e) {
    throw e.with_context("while reading " + path);
  }
  std::vector<std::map<std::string, std::string>> out;
  if (rows.empty()) return out;
  const auto& header = rows[0];
  for (size_t r = 1; r < rows.size(); ++r) {
    if (rows[r].size() == 1 && rows[r][0].empty()) continue;
    if (rows[r].size() != header.size())
      throw Error(ErrorCode::data, path + ": row " + std::to_string(r + 1) + " has " + std::to_string(rows[r].size()) +
                                       " fields, the header has " + std::to_string(header.size()));
    std::map<std::string, std::string> rec;
    for (size_t c = 0; c < header.size(); ++c) rec[header[c]] = rows[r][c];
    out.push_back(std::move(rec));
  }
  return out;
}

}  // namespace hb::suites
