// A stream event's data through both chunk parsers (the SAX fast path and the DOM reference): they must
// agree on every input (success, error message, every field), and applying the chunk must stay in range.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "harness/openai/openai_protocol.h"

using namespace hb::openai;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  StreamChunk fast, slow;
  std::string why_fast, why_slow;
  bool ok_fast = parse_stream_chunk(text, fast, why_fast);
  bool ok_slow = parse_stream_chunk_dom(text, slow, why_slow);
  if (ok_fast != ok_slow || why_fast != why_slow) std::abort();
  if (!ok_fast) return 0;
  if (fast.has_choice != slow.has_choice || fast.role_only != slow.role_only || fast.content != slow.content ||
      fast.reasoning != slow.reasoning || fast.tool_call != slow.tool_call || fast.finish_reason != slow.finish_reason ||
      fast.error_message != slow.error_message || fast.usage.has_value() != slow.usage.has_value())
    std::abort();
  if (fast.usage && (fast.usage->prompt_tokens != slow.usage->prompt_tokens ||
                     fast.usage->completion_tokens != slow.usage->completion_tokens ||
                     fast.usage->reasoning_tokens != slow.usage->reasoning_tokens))
    std::abort();
  StreamState state;
  hb::GenerationResult result;
  apply_chunk(fast, 1, state, result);
  apply_chunk(fast, 2, state, result);
  for (const auto& c : result.chunks)
    if (c.tokens < 0) std::abort();
  return 0;
}
