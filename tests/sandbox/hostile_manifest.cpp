#include "tests/sandbox/hostile_manifest.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace hb::sandbox::testing {
namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, sep)) out.push_back(trim(part));
  if (!s.empty() && s.back() == sep) out.push_back("");
  return out;
}

}  // namespace

std::vector<HostileCase> load_hostile_corpus(const std::string& folder) {
  std::ifstream in(folder + "/manifest.txt");
  if (!in) throw std::runtime_error("cannot read " + folder + "/manifest.txt");
  std::vector<HostileCase> out;
  std::string line;
  while (std::getline(in, line)) {
    if (trim(line).empty() || trim(line)[0] == '#') continue;
    auto cols = split(line, '|');
    if (cols.size() != 5) throw std::runtime_error("manifest line needs 5 columns: " + line);
    HostileCase c;
    c.file = cols[0];
    c.statuses = split(cols[1], ',');
    c.reason_contains = cols[2];
    c.timeout_s = std::stod(cols[3]);
    c.max_wall_s = cols[4].empty() ? c.timeout_s + 3 : std::stod(cols[4]);
    std::ifstream f(folder + "/" + c.file, std::ios::binary);
    if (!f) throw std::runtime_error("cannot read " + folder + "/" + c.file);
    c.program.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    out.push_back(std::move(c));
  }
  return out;
}

std::string fill_placeholders(std::string text, const std::map<std::string, std::string>& values) {
  for (const auto& [name, value] : values) {
    const std::string key = "{{" + name + "}}";
    for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + value.size()))
      text.replace(at, key.size(), value);
  }
  return text;
}

}  // namespace hb::sandbox::testing
