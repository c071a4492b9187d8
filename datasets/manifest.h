#pragma once
// Every suite data file hybench knows: name, where upstream keeps it, sha256 and license. The data itself
// is never copied into the repository.
#include <string>
#include <vector>

namespace hb::datasets {

struct ManifestEntry {
  std::string suite;    // "gsm8k"
  std::string file;     // path relative to a mirror: "gsm8k/test.jsonl"
  std::string sha256;
  std::string license;
  std::string url;      // upstream URL pinned to a commit
  bool restricted;      // must never appear in a public artefact (GPQA)
};

const std::vector<ManifestEntry>& manifest();
const ManifestEntry* find_entry(const std::string& file);

}  // namespace hb::datasets
