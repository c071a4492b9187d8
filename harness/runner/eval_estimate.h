#pragma once
// What an eval is about to cost, said before it starts: items x samples (x turns) = requests, how many are
// already stored, and a time estimate when this model has answered this suite before (the mean time of its
// earlier successful samples, any run, over the concurrency). E.g.
//   aime: 30 items x 16 samples = 480 requests; about 41m at concurrency 16 (mean 82.0 s per sample over 96
//   earlier samples of this model); add --limit N for fewer items
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/store/store.h"
#include "suites/suite.h"

namespace hb::runner {

struct EvalEstimate {
  std::string suite;
  int64_t items = 0;
  int samples = 1;
  int64_t requests = 0;       // items x samples x turns
  int64_t stored = 0;         // samples already stored without error in this run (resume)
  int64_t to_request = 0;     // samples still to request
  std::optional<double> seconds;
  double mean_sample_s = 0;   // the basis of `seconds`
  int64_t history = 0;        // earlier samples it rests on
  int concurrency = 1;
  std::string text(bool limit_given) const;
};

EvalEstimate estimate_eval(store::Store& store, const suites::Suite& suite, const std::vector<suites::Item>& items,
                           int64_t limit, int samples, int concurrency, int64_t run_id, int64_t model_id,
                           int64_t suite_id);

}  // namespace hb::runner
