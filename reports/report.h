#pragma once
// The `hybench report` pipeline: read the selected runs from a ResultsDb, render every artefact with the
// pure renderers, and write them into one output folder.
#include <string>
#include <vector>

#include "reports/results_db.h"

namespace hb::reports {

struct ReportOptions {
  std::vector<std::string> runs;  // empty = every run
  std::string out_dir;
  std::string baseline;  // model display name; "" = the model with the fewest Mamba layers
};

// Creates out_dir (and parents) or throws Error{usage} naming it when it cannot be created or written.
void prepare_output_dir(const std::string& out_dir);

// Writes the report files; returns their paths in the order written.
std::vector<std::string> write_report(const ResultsDb& db, const ReportOptions& options);

}  // namespace hb::reports
