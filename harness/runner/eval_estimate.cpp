#include "harness/runner/eval_estimate.h"

#include <algorithm>

#include <fmt/format.h>

#include "harness/runner/eta.h"

namespace hb::runner {

std::string EvalEstimate::text(bool limit_given) const {
  std::string s = fmt::format("{}: {} items x {} sample{} = {} requests", suite, items, samples, samples == 1 ? "" : "s",
                              requests);
  if (stored > 0) s += fmt::format(" ({} samples already stored, {} to request)", stored, to_request);
  if (to_request == 0) return s + "; nothing left to request";
  if (seconds)
    s += fmt::format("; about {} at concurrency {} (mean {:.1f} s per sample over {} earlier samples of this model)",
                     format_duration(*seconds), concurrency, mean_sample_s, history);
  else
    s += "; time unknown until the first samples complete (the progress line then shows an ETA)";
  if (!limit_given && requests > 200) s += "; add --limit N for fewer items";
  return s;
}

EvalEstimate estimate_eval(store::Store& store, const suites::Suite& suite, const std::vector<suites::Item>& items,
                           int64_t limit, int samples, int concurrency, int64_t run_id, int64_t model_id,
                           int64_t suite_id) {
  EvalEstimate e;
  e.suite = suite.info().name;
  e.samples = std::max(1, samples);
  e.concurrency = std::max(1, concurrency);
  e.items = limit > 0 ? std::min<int64_t>(limit, static_cast<int64_t>(items.size())) : static_cast<int64_t>(items.size());
  for (int64_t i = 0; i < e.items; ++i) {
    auto plan = suite.prompt(items[static_cast<size_t>(i)]);
    int64_t turns = plan.raw_prompt ? 1 : std::max<int64_t>(1, static_cast<int64_t>(plan.user_turns.size()));
    e.requests += turns * e.samples;
  }
  auto done = store.finished_samples(run_id, model_id, suite_id);
  for (int64_t i = 0; i < e.items; ++i)
    for (int s = 0; s < e.samples; ++s) e.stored += done.count({items[static_cast<size_t>(i)].id, s});
  e.to_request = e.items * e.samples - e.stored;
  auto q = store.reader().prepare(
      "SELECT COUNT(*), AVG(end_unix_ns - submit_unix_ns) FROM samples WHERE model_id=? AND suite_id=? AND "
      "error_kind IS NULL AND submit_unix_ns IS NOT NULL AND end_unix_ns > submit_unix_ns");
  q.bind(1, model_id).bind(2, suite_id);
  if (q.step() && q.int64(0) > 0) {
    e.history = q.int64(0);
    e.mean_sample_s = q.real(1) / 1e9;
    double left = static_cast<double>(e.to_request);
    e.seconds = left * e.mean_sample_s / std::min(static_cast<double>(e.concurrency), std::max(1.0, left));
  }
  return e;
}

}  // namespace hb::runner
