#pragma once
// Precomputed, seeded open-loop arrival schedules: gaps drawn from a Gamma distribution with shape =
// burstiness and mean 1/rate (burstiness 1 = Poisson arrivals, < 1 burstier, > 1 smoother). The gaps
// are rescaled so that the n arrivals span exactly (n - 1) / rate seconds, which removes the seed's
// noise from the achieved rate (vLLM does the same). The first arrival is at 0.
#include <cstdint>
#include <vector>

namespace hb::load {

// Arrival offsets in nanoseconds from the start of the point, non-decreasing.
std::vector<int64_t> arrival_schedule(int n, double rate_per_s, double burstiness, uint64_t seed);

// Requests that an open-loop point of `duration_s` seconds at `rate_per_s` sends (at least 1).
int requests_for_duration(double rate_per_s, double duration_s);

}  // namespace hb::load
