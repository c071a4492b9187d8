#pragma once
// The `hybench report` pipeline: read the selected runs from a ResultsDb, render every artefact with the
// pure renderers, and write them into one output folder.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "reports/results_db.h"

namespace hb::reports {

struct ReportOptions {
  std::vector<std::string> runs;  // empty = every run
  std::string out_dir;
  std::string baseline;  // model display name; "" = the model with the fewest Mamba layers
  // The study's gate policy (its "gate" object) and where it came from; null = the default gate decides the
  // page's headline, labelled as such.
  nlohmann::json gate_policy;
  std::string gate_source;
};

// Creates out_dir (and parents) or throws Error{usage} naming it when it cannot be created or written.
void prepare_output_dir(const std::string& out_dir);

// Writes the report files; returns their paths in the order written.
std::vector<std::string> write_report(const ResultsDb& db, const ReportOptions& options);

}  // namespace hb::reports
