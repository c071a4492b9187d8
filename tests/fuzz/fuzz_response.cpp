// A whole non-streaming response body and an error body: parsed without crashing, token counts in range.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "harness/openai/openai_protocol.h"

using namespace hb::openai;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  hb::GenerationResult r;
  std::string why;
  if (parse_response(body, 1, r, why)) {
    if (r.usage.completion_tokens > kMaxTokenCount || r.usage.prompt_tokens > kMaxTokenCount) std::abort();
    for (const auto& c : r.chunks)
      if (c.tokens < 0) std::abort();
  } else if (why.empty()) {
    std::abort();  // a refusal always says why
  }
  std::string message = error_message_from_body(body);
  if (message.size() > 303) std::abort();  // clipped to 300 characters + "..."
  return 0;
}
