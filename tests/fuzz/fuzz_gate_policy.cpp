// Gate policies (the "gate" object of a study, or --policy FILE): any JSON is a policy or an hb::Error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "harness/base/error.h"
#include "reports/gate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  try {
    auto policy = hb::reports::parse_gate_policy(j, "fuzz.json");
    if (!(policy.default_margin >= 0 && policy.default_margin <= 1)) std::abort();
  } catch (const hb::Error& e) {
    if (e.message().empty()) std::abort();
  }
  return 0;
}
