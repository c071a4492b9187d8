#pragma once
// `hybench sweep --concurrency auto` / `--rate auto` with `--slo ttft_p99=..,tpot_p99=..`: the highest load
// whose requests meet the SLOs at the given percentile (DistServe-style goodput: the largest load with
// attainment >= the percentile). Per shape: probe the start load and double it while it passes (rates are
// halved first when the start fails, until requests run nearly alone: a lower rate cannot help then), then
// bisect between the last passing and the first failing load (concurrency to 1, rates to a relative precision).
// Every probe is a stored sweep point, so an interrupted search resumes without re-measuring, and the answer
// comes with its neighbours.
#include <functional>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/load/sweep.h"

namespace hb::load {

struct SearchOptions {
  LoadKind kind = LoadKind::concurrency;
  double start = 1;            // first probe
  double max_load = 1024;      // probes never exceed it
  double min_rate = 0.01;      // rates: halving stops here
  double rate_precision = 0.1; // rates: bisect until high / low <= 1 + this
  double burstiness = 1;
};

struct Probe {
  LoadLevel load;
  bool pass = false;
  double attainment = 0;      // median over repeats
  nlohmann::json metrics;     // of the first repeat: goodput and the bounded percentiles
};

struct ShapeSearch {
  Shape shape;
  std::vector<Probe> probes;           // in the order measured
  std::optional<Probe> best;           // the highest passing load
  std::optional<Probe> below, above;   // its neighbours: next lower passing probe, lowest failing probe
  bool capped = false;                 // the highest allowed load passed: the answer may be higher
  bool alone_fails = false;            // rates: a failing probe's requests barely overlapped; none lower probed
  nlohmann::json to_json() const;
};

struct SearchOutcome {
  SweepResult sweep;                   // every probe point (for the table and the JSON)
  std::vector<ShapeSearch> shapes;
};

// `options.loads` is ignored; options.slo must have a percentile.
SearchOutcome search_max_load(Backend& backend, const SweepOptions& options, const SearchOptions& search,
                              store::Store* store, int64_t run_id, int64_t model_id,
                              const std::function<void()>& between_points = {});

// "10:16: highest concurrency meeting the SLOs (p99): 6 (goodput 12.1 req/s); neighbours 5 pass, 7 fail".
std::string render_search(const std::vector<ShapeSearch>& shapes, const Slo& slo);

}  // namespace hb::load
