#pragma once
// Reads data-driven case files of the suite tests: one case per line, fields separated by " ||| ", "\n" in a
// field is a newline, lines starting with '#' and blank lines are skipped.
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace hb::suites::testing {

struct CaseLine {
  int line = 0;
  std::vector<std::string> fields;
};

inline std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == 'n' && (i == 0 || s[i - 1] != '\\')) {
      out += '\n';
      ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

inline std::vector<CaseLine> read_cases(const std::string& relative, size_t min_fields) {
  std::vector<CaseLine> out;
  std::ifstream in(std::string(HB_TEST_DATA_DIR) + "/suites/" + relative);
  EXPECT_TRUE(in) << relative;
  std::string text;
  int n = 0;
  while (std::getline(in, text)) {
    ++n;
    if (text.empty() || text[0] == '#' || text.find_first_not_of(" \t") == std::string::npos) continue;
    CaseLine c;
    c.line = n;
    size_t start = 0;
    while (true) {
      size_t p = text.find(" ||| ", start);
      c.fields.push_back(unescape(text.substr(start, p == std::string::npos ? std::string::npos : p - start)));
      if (p == std::string::npos) break;
      start = p + 5;
    }
    EXPECT_GE(c.fields.size(), min_fields) << relative << ":" << n;
    if (c.fields.size() >= min_fields) out.push_back(std::move(c));
  }
  EXPECT_FALSE(out.empty()) << relative;
  return out;
}

}  // namespace hb::suites::testing
