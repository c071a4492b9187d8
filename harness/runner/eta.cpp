#include "harness/runner/eta.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace hb::runner {

void EtaEstimator::started(int64_t start_ns) { in_flight_.insert(start_ns); }

void EtaEstimator::finished(int64_t start_ns, int64_t end_ns) {
  ++done_;
  if (auto it = in_flight_.find(start_ns); it != in_flight_.end()) in_flight_.erase(it);
  durations_.push_back(std::max<int64_t>(0, end_ns - start_ns));
}

std::optional<double> EtaEstimator::mean_s(int64_t now_ns) {
  if (durations_.empty()) return std::nullopt;
  // Kaplan-Meier over (duration, completed) and (age, still running), restricted to the longest time seen.
  std::vector<std::pair<int64_t, bool>> times;
  times.reserve(durations_.size() + in_flight_.size());
  for (int64_t d : durations_) times.push_back({d, true});
  for (int64_t s : in_flight_) times.push_back({std::max<int64_t>(0, now_ns - s), false});
  std::sort(times.begin(), times.end());
  double survival = 1, area = 0, at_risk = static_cast<double>(times.size());
  int64_t prev = 0;
  for (size_t i = 0; i < times.size();) {
    int64_t t = times[i].first;
    area += survival * static_cast<double>(t - prev) / 1e9;
    prev = t;
    double events = 0, leaving = 0;
    for (; i < times.size() && times[i].first == t; ++i) {
      events += times[i].second ? 1 : 0;
      leaving += 1;
    }
    survival *= 1 - events / at_risk;
    at_risk -= leaving;
  }
  double raw = area;
  if (!smoothed_) {
    smoothed_ = raw;
  } else {
    // Exponential smoothing with a 10 s time constant, whatever the call rate.
    double dt = static_cast<double>(now_ns - smoothed_at_) / 1e9;
    *smoothed_ += (1 - std::exp(-std::max(0.0, dt) / 10.0)) * (raw - *smoothed_);
  }
  smoothed_at_ = now_ns;
  return smoothed_;
}

std::optional<double> EtaEstimator::eta_s(int64_t now_ns) {
  if (done_ >= total_) return 0.0;
  auto mean = mean_s(now_ns);
  if (!mean) return std::nullopt;
  double left = static_cast<double>(total_ - done_);
  return left * *mean / std::min(static_cast<double>(concurrency_), left);
}

std::string EtaEstimator::text(int64_t now_ns) {
  auto eta = eta_s(now_ns);
  return eta ? format_duration(*eta) : std::string("after the first completions");
}

std::string format_duration(double seconds) {
  long s = std::lround(std::max(0.0, seconds));
  char buf[40];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s / 60) % 60);
  else if (s >= 60) std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%lds", s);
  return buf;
}

}  // namespace hb::runner
