#pragma once
// Seeded fault injection for the loopback servers (in-process LoopbackServer and hb_loopback_server): each
// fault kind has its own rate and its own seeded random stream, so a test or a user can drive a real
// process with "3% of each fault" reproducibly, and adding one fault does not move when the others fire.
//
//   rate_limit    HTTP 429 with Retry-After
//   close         read the request, close the connection without a response
//   drop          start the stream, drop the connection in the middle
//   invalid_json  an event whose data is not JSON, in the middle of the stream
//   stall         start the stream, then send nothing more (the connection stays open)
//   error_event   an {"error": ...} event in the middle of the stream, then the end of the stream
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace hb::testing {

enum class FaultKind { rate_limit, close, drop, invalid_json, stall, error_event };

struct FaultSpec {
  FaultKind kind = FaultKind::close;
  double rate = 0;     // probability per request, in [0, 1]
  uint64_t seed = 1;
};

// The names used on the command line and in request logs: "429", "close", "drop", "invalid-json",
// "stall", "error-event".
const char* fault_name(FaultKind kind);
std::vector<std::string> fault_names();
// Parses "NAME:RATE[:SEED]" (e.g. "drop:0.03:7"); the seed defaults to default_seed + the kind's index.
// Throws std::invalid_argument with a message naming the text.
FaultSpec parse_fault_spec(const std::string& text, uint64_t default_seed);

class FaultInjector {
 public:
  FaultInjector() = default;
  explicit FaultInjector(std::vector<FaultSpec> specs);
  // The fault for the next request, or nothing (answer normally). Thread-safe. Every spec draws once per
  // request; the first that fires (in the order given) wins.
  std::optional<FaultKind> draw();
  bool empty() const { return streams_.empty(); }

 private:
  std::mutex mu_;
  std::vector<std::pair<FaultSpec, std::mt19937_64>> streams_;
};

// The event payloads a faulty stream carries.
std::string invalid_json_event_data();
std::string error_event_data();

}  // namespace hb::testing
