#pragma once
// What identifies each part of a run (docs/NIGHTLY.md): its key ("eval/MODEL/SUITE", "sweep/MODEL") and the
// result-affecting configuration whose hash decides whether a re-run resumes the part or is refused. Only
// what changes results is in it (not concurrency, limits, timeouts or error-rate thresholds), so a part can
// be resumed with another concurrency or extended with a larger limit. `hybench eval` and `hybench run
// STUDY` build eval parts the same way, so a part has the same key and hash whichever command made it.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/runner/study.h"
#include "harness/store/store.h"

namespace hb::runner {

struct EvalPartConfig {
  std::string model;               // the --model spec
  std::string model_name;
  std::vector<std::string> suites; // NAME or NAME:VARIANT; one for a part, all of them for an eval's whole config
  int samples = 0;                 // 0: the suite's default
  std::string variant;             // --variant for every suite
  std::optional<double> temperature;
  std::optional<int> max_tokens;
  std::optional<long long> seed;
  std::string reasoning_markers;
  std::string judge;               // "SPEC" or "SPEC NAME"
  nlohmann::json to_json() const;
};

std::string eval_part_key(const std::string& model_name, const std::string& suite);
std::string sweep_part_key(const std::string& model_name);

// The parts of a study run on shard `shard_index` of `shard_count`: every model x suite, and the sweep of
// every model this shard measures (model i on shard i % N). Study runs keep their parts in run_parts like
// `eval` and `sweep`, so each resumes on its own and an edited suite or workload is refused by its part.
std::vector<store::RunPart> study_parts(const Study& study, int shard_index = 0, int shard_count = 1);

}  // namespace hb::runner
