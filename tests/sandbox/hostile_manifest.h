#pragma once
// The hostile corpus's manifest (tests/sandbox/hostile/manifest.txt): one program per line with the outcome
// the sandbox must give it. Read by hostile_corpus_test and by the corpus benchmark.
#include <map>
#include <string>
#include <vector>

namespace hb::sandbox::testing {

struct HostileCase {
  std::string file;                   // under the corpus folder
  std::vector<std::string> statuses;  // any of these (run_status_name) is right
  std::string reason_contains;        // in the stored reason ("" = anything)
  double timeout_s = 5;               // the program's wall-clock limit
  double max_wall_s = 0;              // the run must end within this (0 = timeout_s + 3)
  std::string program;                // the file's text, placeholders not filled
};

// Throws std::runtime_error with the line when the manifest or a program cannot be read.
std::vector<HostileCase> load_hostile_corpus(const std::string& folder);

// Replaces each {{NAME}} by values[NAME].
std::string fill_placeholders(std::string text, const std::map<std::string, std::string>& values);

}  // namespace hb::sandbox::testing
