#pragma once
// Which earlier run a nightly compares with: `compare --base previous` is the latest earlier finished run
// of the head's family, `--base 2026-12-02` the latest finished run of the family started that UTC day,
// anything else a run name. The family is the study (runs made by `hybench run` of the same study name)
// or, for other runs, the name without its date or number suffix: nightly-2026-12-03 and nightly-2026-12-02
// are both "nightly". Earlier means created before the head (smaller id).
#include <string>
#include <vector>

#include "reports/results_db.h"

namespace hb::reports {

// "nightly-2026-12-03" -> "nightly"; "eval-m-20261203T101010Z-2" -> "eval-m"; a name without a digit
// suffix is its own family.
std::string run_family(const std::string& name);

struct BaseChoice {
  RunInfo run;
  std::string why;  // "the previous finished run of study 'x'", ...
};

// Throws a usage error naming the family and the runs seen when no run matches.
BaseChoice choose_base_run(const std::vector<RunInfo>& runs, const RunInfo& head, const std::string& base);

}  // namespace hb::reports
