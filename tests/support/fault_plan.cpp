#include "tests/support/fault_plan.h"

#include <cstdlib>
#include <stdexcept>

namespace hb::testing {
namespace {

constexpr FaultKind kAll[] = {FaultKind::rate_limit, FaultKind::close, FaultKind::drop,
                              FaultKind::invalid_json, FaultKind::stall, FaultKind::error_event};

}  // namespace

const char* fault_name(FaultKind kind) {
  switch (kind) {
    case FaultKind::rate_limit: return "429";
    case FaultKind::close: return "close";
    case FaultKind::drop: return "drop";
    case FaultKind::invalid_json: return "invalid-json";
    case FaultKind::stall: return "stall";
    case FaultKind::error_event: return "error-event";
  }
  return "?";
}

std::vector<std::string> fault_names() {
  std::vector<std::string> out;
  for (FaultKind k : kAll) out.emplace_back(fault_name(k));
  return out;
}

FaultSpec parse_fault_spec(const std::string& text, uint64_t default_seed) {
  auto bad = [&](const std::string& why) {
    std::string names;
    for (const auto& n : fault_names()) names += (names.empty() ? "" : ", ") + n;
    throw std::invalid_argument("--fault '" + text + "': " + why + "; use NAME:RATE[:SEED] with NAME one of " + names +
                                " and RATE in [0, 1], e.g. drop:0.03");
  };
  size_t c1 = text.find(':');
  if (c1 == std::string::npos) bad("no rate");
  std::string name = text.substr(0, c1);
  size_t c2 = text.find(':', c1 + 1);
  std::string rate_text = text.substr(c1 + 1, c2 == std::string::npos ? std::string::npos : c2 - c1 - 1);
  FaultSpec spec;
  bool found = false;
  for (size_t i = 0; i < std::size(kAll); ++i) {
    if (name == fault_name(kAll[i])) {
      spec.kind = kAll[i];
      spec.seed = default_seed + i;
      found = true;
    }
  }
  if (!found) bad("unknown fault '" + name + "'");
  char* end = nullptr;
  spec.rate = std::strtod(rate_text.c_str(), &end);
  if (rate_text.empty() || *end != '\0') bad("rate '" + rate_text + "' is not a number");
  if (c2 != std::string::npos) {
    std::string seed_text = text.substr(c2 + 1);
    spec.seed = std::strtoull(seed_text.c_str(), &end, 10);
    if (seed_text.empty() || *end != '\0' || seed_text[0] == '-') bad("seed '" + seed_text + "' is not a whole number");
  }
  if (!(spec.rate >= 0 && spec.rate <= 1)) bad("rate must be in [0, 1]");
  return spec;
}

FaultInjector::FaultInjector(std::vector<FaultSpec> specs) {
  for (const auto& s : specs)
    if (s.rate > 0) streams_.emplace_back(s, std::mt19937_64(s.seed));
}

std::optional<FaultKind> FaultInjector::draw() {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<FaultKind> chosen;
  for (auto& [spec, rng] : streams_) {
    bool fire = std::uniform_real_distribution<double>(0, 1)(rng) < spec.rate;  // always draw: streams stay independent
    if (fire && !chosen) chosen = spec.kind;
  }
  return chosen;
}

std::string invalid_json_event_data() { return "{\"choices\": [{\"delta\": {\"content\": oops not json"; }

std::string error_event_data() {
  return "{\"error\":{\"message\":\"injected error event (loopback fault)\",\"type\":\"server_error\",\"code\":500}}";
}

}  // namespace hb::testing
