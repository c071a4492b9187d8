#pragma once
// Runs one sweep point against a Backend: closed loop (keep N requests in flight) or open loop (submit
// at precomputed, seeded arrival times), and returns every request's raw record. The generator thread
// only schedules and submits; the backend's own event loop does all I/O and time-stamps every chunk.
// Each record keeps the scheduled time and the dispatch (submit) time, so client lag and client
// queueing are measurable; the process CPU time spent during the point is measured too.
#include <cstdint>
#include <functional>
#include <vector>

#include "harness/backends/backend.h"
#include "harness/load/load_spec.h"
#include "harness/load/workload.h"

namespace hb::load {

struct RequestTrace {
  int index = 0;
  bool warmup = false;
  int64_t scheduled_ns = 0;  // absolute monotonic: the arrival time (rate) or when a slot freed (concurrency)
  int64_t dispatch_ns = 0;   // absolute monotonic: handed to the backend
  GenerationResult result;
};

struct PointPlan {
  LoadLevel load;
  int requests = 100;        // measured requests (warm-up excluded); with duration_s > 0 an upper bound
  double duration_s = 0;     // > 0: stop dispatching after this many seconds of measurement
  int warmup = 0;            // extra requests dispatched first and excluded from latency statistics
  uint64_t seed = 0;         // arrival schedule seed
};

struct PointRun {
  int64_t start_ns = 0;      // absolute monotonic, first dispatch
  int64_t end_ns = 0;        // absolute monotonic, last completion
  double cpu_s = 0;          // process CPU time (user + system) during the point
  std::vector<RequestTrace> traces;  // in dispatch order
};

// Called from the generator thread about every 200 ms: (completed, dispatched, errors).
using ProgressFn = std::function<void(int completed, int dispatched, int errors)>;

PointRun run_point(Backend& backend, const Workload& workload, const PointPlan& plan, const ProgressFn& progress = {});

// Process CPU time (user + system) so far, in seconds.
double process_cpu_s();

}  // namespace hb::load
