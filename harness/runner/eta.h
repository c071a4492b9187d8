#pragma once
// The ETA of an eval's progress line, from completions only: nothing is shown before the first sample
// completes (a long reasoning request takes minutes; the time before it says nothing). Then the mean time a
// sample takes is the Kaplan-Meier restricted mean over the completed samples and those still in flight
// (censored at their age: they take at least that long), and the ETA is the samples left x that mean / the
// concurrency. The in-flight ages keep the first fast answers from making the ETA too short; a completion
// rate would jump when a batch of equally long answers lands at once. The mean is smoothed over ~10 s.
// Pure: the caller passes the clock.
#include <cstdint>
#include <optional>
#include <set>
#include <vector>
#include <string>

namespace hb::runner {

class EtaEstimator {
 public:
  EtaEstimator(int64_t total, int concurrency) : total_(total), concurrency_(concurrency < 1 ? 1 : concurrency) {}
  void started(int64_t start_ns);
  void finished(int64_t start_ns, int64_t end_ns);
  // Seconds one sample takes (smoothed); nullopt before the first completion.
  std::optional<double> mean_s(int64_t now_ns);
  // Seconds left; nullopt before the first completion, 0 when everything is done.
  std::optional<double> eta_s(int64_t now_ns);
  // "12m05s", "1h39m", or "after the first completions".
  std::string text(int64_t now_ns);

 private:
  int64_t total_;
  int concurrency_;
  int64_t done_ = 0;
  std::multiset<int64_t> in_flight_;   // start times
  std::vector<int64_t> durations_;     // of completed samples
  std::optional<double> smoothed_;
  int64_t smoothed_at_ = 0;
};

// "45s", "12m05s", "1h39m".
std::string format_duration(double seconds);

}  // namespace hb::runner
