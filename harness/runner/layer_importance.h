#pragma once
// `hybench importance` as a library call (harness/runner/layer_importance.cpp): leave-one-out layer importance
// of a native model, stored under a run, ranking printed on stdout. Tests pass their own suites.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "suites/suite.h"

namespace hb::runner {

struct ImportanceOptions {
  std::string model;                   // native:PATH or native:preset:NAME[,options]
  std::string model_name;              // display name of the full model ("" = from the spec)
  std::string suites;                  // comma-separated suite names
  std::string layers = "attention";    // attention | mamba | all | list ("3,7-9")
  std::string mode = "drop-mixer";     // drop-mixer | drop-layer
  std::string metric = "score";        // score | kl
  std::string db = "hybench.db", run, data_dir;
  std::string text;                    // kl: token set from this file
  std::string from_run;                // kl: the full model's completions from this run ("" = this run)
  std::string from_layout;             // current layout for the conversion proposal ("" = the checkpoint's)
  std::optional<int> limit, convert, max_tokens;
  std::optional<long long> seed;
  int concurrency = 16, seq_len = 1024, sequences = 64, batch = 16;
  double max_error_rate = 0.5;
  // Suites given as objects with their items (tests); used instead of `suites` when not empty.
  std::vector<std::shared_ptr<suites::Suite>> suite_objects;
  std::vector<std::vector<suites::Item>> suite_items;
};

// Validates (Error{usage} naming the value), sweeps, prints the ranking and, with `convert`, the layers to
// convert next. Returns the exit code: 0, or 3 when interrupted or a variant's eval failed (re-run to resume).
int run_layer_importance(const ImportanceOptions& options);

}  // namespace hb::runner
