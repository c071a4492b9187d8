#pragma once
// Point metrics computed from raw request records; the exact definitions are in docs/METRICS.md and
// embedded (metric_definitions()) in every JSON output. Pure: same records, same numbers.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/load/load_generator.h"
#include "harness/load/load_spec.h"

namespace hb::load {

struct Distribution {
  int64_t n = 0;
  double mean = 0, stdev = 0, min = 0, max = 0, p50 = 0, p90 = 0, p95 = 0, p99 = 0;
  nlohmann::json to_json() const;  // {"n","mean","stdev","min","max","p50","p90","p95","p99"} (null when n == 0)
};

// Linear-interpolation percentiles (numpy's default) of `values` (sorted in place).
Distribution summarize(std::vector<double>& values);
double percentile_sorted(const std::vector<double>& sorted, double p);

struct EndpointCount {
  int64_t requests = 0;
  int64_t errors = 0;
};

struct PointMetrics {
  int requests = 0;        // measured requests (warm-up excluded)
  int ok = 0;
  int errors = 0;
  int warmup = 0;
  std::map<std::string, int> errors_by_kind;
  std::map<std::string, EndpointCount> endpoints;
  Distribution ttft_ms, ttfc_ms, tpot_ms, itl_ms, e2e_ms, queue_ms, lag_ms, connect_ms;
  double output_tok_per_s = 0;       // steady window
  double total_tok_per_s = 0;        // steady window, prompt + output tokens
  double request_per_s = 0;          // steady window
  double goodput_req_per_s = -1;     // good (every SLO met) completions in the window / window; -1 without SLOs
  double slo_attainment = -1;
  double whole_run_output_tok_per_s = 0;
  double window_s = 0;
  std::string window_kind;           // "steady" or "whole_run" (the steady window was too short)
  std::string window_note;           // why the steady window was not used ("" when it was)
  double window_start_s = 0, window_end_s = 0;  // the interval, from the point's first dispatch
  int slo_met = -1;                  // with an SLO percentile: 1 when attainment >= it, else 0; -1 without
  int window_completions = 0;        // measured requests completed OK inside the window (request_per_s's count)
  int64_t output_tokens = 0;         // measured OK requests
  double mean_output_tokens = 0;
  double mean_prompt_tokens = -1;    // server-reported; -1 when no server reported it
  std::string token_count_source;    // "server_usage", "client_chunks" or "mixed"
  int output_length_mismatch = 0;    // OK requests whose output length differs from the requested one
  double client_cpu_us_per_token = 0;
  double achieved_concurrency = 0;   // sum of E2E / window (Little's law)
  nlohmann::json to_json() const;
};

// expected_output_tokens: the forced output length (0 = not forced, no mismatch check).
PointMetrics compute_metrics(const PointRun& run, const Slo& slo, int expected_output_tokens);

// Human-readable definitions of every metric, keyed by metric name.
nlohmann::json metric_definitions();

}  // namespace hb::load
