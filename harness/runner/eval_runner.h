#pragma once
// Runs one suite against one backend and stores every sample as it completes. Resumable: samples already
// stored without error for (run, model, suite) are not requested again; failed samples are retried.
// Requests are kept `concurrency` in flight; grading happens on a small worker pool so a slow grader
// (a sandboxed program, a judge) never stalls the backend's event loop.
#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness/backends/backend.h"
#include "harness/store/store.h"
#include "suites/suite.h"

namespace hb::runner {

struct EvalOptions {
  int limit = -1;                       // first N items; -1 = all
  int samples = 1;                      // K samples per item
  std::optional<double> temperature;    // overrides the suite's default
  std::optional<int> max_tokens;
  std::optional<uint64_t> seed;         // base seed; each sample gets a seed derived from it
  int concurrency = 16;
  double max_error_rate = 0.5;          // abort above this fraction of failed requests...
  int min_requests_before_abort = 20;   // ...once at least this many have completed
  std::vector<std::string> reasoning_markers;
  int shard_index = 0;                  // run only items with index % shard_count == shard_index
  int shard_count = 1;
};

struct EvalOutcome {
  size_t total = 0;        // item x sample pairs in the plan
  size_t already_done = 0; // found in the store (resume)
  size_t requested = 0;    // sent this time
  size_t succeeded = 0;
  size_t failed = 0;
  std::map<std::string, size_t> errors_by_kind;
  std::string first_error;
  std::vector<suites::MetricValue> metrics;  // over everything stored for (run, model, suite)
  int64_t stored_errors = 0;                 // samples stored with an error
  bool interrupted = false;
  bool aborted = false;                      // error rate exceeded
};

struct EvalTarget {
  int64_t run_id = 0;
  int64_t model_id = 0;
  int64_t suite_id = 0;
};

// Set by a signal handler; the runner cancels what is in flight, stores what finished, and returns.
std::atomic<bool>& interrupt_flag();

// Aggregates every stored sample of (run, model, suite) with the suite's aggregator and stores the metrics.
std::vector<suites::MetricValue> aggregate_and_store(const suites::Suite& suite, store::Store& store,
                                                    const EvalTarget& target);

// Best effort: records status "failed" for a run whose command is about to fail (never throws: the store
// itself may be what failed).
void mark_run_failed(store::Store& store, int64_t run_id);

EvalOutcome run_eval(Backend& backend, const suites::Suite& suite, const std::vector<suites::Item>& items,
                     store::Store& store, const EvalTarget& target, const EvalOptions& options,
                     suites::ScoringContext& scoring);

}  // namespace hb::runner
