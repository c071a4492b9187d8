#pragma once
// A throughput sweep: shapes x load levels x repeats, each point run by the load generator, its metrics
// and every request trace stored in the results DB (perf_points, request_traces) in one transaction as
// soon as the point ends. Re-running with the same run name skips finished points (an interrupted sweep
// resumes at the first unfinished point; a half-run point is run again from scratch).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/backends/backend.h"
#include "harness/load/load_spec.h"
#include "harness/load/metrics.h"
#include "harness/load/workload.h"

namespace hb::store {
class Store;
}

namespace hb::load {

struct SweepOptions {
  std::string model_name;               // display name in the JSON
  std::vector<Shape> shapes;            // with `replay`: one shape whose label names the prompt set
  std::shared_ptr<const PromptSet> replay;  // replayed prompts instead of random ones (real output lengths)
  std::vector<LoadLevel> loads;
  int requests = 0;                     // measured requests per point; 0: default_requests(load)
  double duration_s = 0;                // > 0: measure for this long instead (requests is then a cap)
  int warmup = 0;
  int repeats = 1;
  Slo slo;
  uint64_t seed = 0;
  int shared_prefix_tokens = 0;
  bool force_output_length = true;
  bool chat = false;                    // random prompts as chat messages instead of raw completions
  bool client_shares_process = false;   // the engine runs in this process (native:): no client CPU figure
  int vocab_size = 0;                   // > 0: random prompts are exact-length token ids (see WorkloadOptions)
  double unstable_threshold = 0.10;     // repeats whose output tok/s spread exceeds this are flagged
  nlohmann::json settings = nlohmann::json::object();  // engine/server settings stored with each point
};

struct SweepPoint {
  Shape shape;
  LoadLevel load;
  int repeat = 0;
  bool resumed = false;                 // taken from the DB, not run now
  nlohmann::json metrics;               // PointMetrics::to_json()
};

struct SweepResult {
  std::vector<SweepPoint> points;
  nlohmann::json summary;               // per (shape, load): median, spread, unstable
  nlohmann::json to_json(const SweepOptions& options) const;  // the --json document (schema_version 1)
};

// Measured requests of a point when not given: max(100, 4 x concurrency) closed loop, max(100, 20 s of
// arrivals) open loop, so the steady window holds enough completions at every load.
int default_requests(const LoadLevel& load);

// Stable key of a point within a run, e.g. "shape=1024:128|concurrency=8|repeat=0".
std::string point_key(const Shape& shape, const LoadLevel& load, int repeat);

// Runs the sweep. `store` may be null (no persistence). `between_points` runs before each point (e.g.
// checks that a launched server is still alive; it throws to stop the sweep).
SweepResult run_sweep(Backend& backend, const SweepOptions& options, store::Store* store, int64_t run_id,
                      int64_t model_id, const std::function<void()>& between_points = {});

// Aggregates repeats: per (shape, load) the median and relative spread ((max - min) / median) of the
// headline metrics, and "unstable" when the output tok/s spread exceeds the threshold.
nlohmann::json summarize_repeats(const std::vector<SweepPoint>& points, double unstable_threshold);

// A fixed-width table of the points for stdout.
std::string render_table(const SweepResult& result);

}  // namespace hb::load
