// Study files as users (and fuzzers) write them: any JSON either parses into a study or is refused with
// hb::Error config/usage naming the field. A JSON library exception escaping would be a crash here.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "harness/base/error.h"
#include "harness/runner/study.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  try {
    auto study = hb::runner::parse_study(j, "fuzz.json");
    if (study.models.empty() || study.name.empty()) std::abort();
    if (!(study.max_error_rate >= 0 && study.max_error_rate <= 1)) std::abort();
  } catch (const hb::Error& e) {
    if (e.message().empty()) std::abort();
  }
  return 0;
}
