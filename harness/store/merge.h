#pragma once
// Combines result databases written by shards of one study (or by different machines) into one.
// Rows are matched by their natural keys (run name; model spec + display name; suite name, variant,
// version and prompt hash; sample primary key; perf point key), so merging the same input twice adds
// nothing. A successful sample replaces a failed one of the same key; otherwise the first row wins.
#include <string>
#include <tuple>
#include <vector>

namespace hb::store {

class Store;

struct MergeStats {
  int64_t runs = 0, models = 0, suites = 0, samples = 0, perf_points = 0, traces = 0;
  // (run_id, model_id, suite_id) groups whose samples changed: their metrics must be recomputed.
  std::vector<std::tuple<int64_t, int64_t, int64_t>> touched;
  std::vector<int64_t> run_ids;  // the target's ids of the runs this source held
};

// Merges `source` into the database of `into`. A run present in both with another config hash is an
// error that names both hashes (the shards did not run the same study).
MergeStats merge_database(Store& into, const std::string& source);

}  // namespace hb::store
