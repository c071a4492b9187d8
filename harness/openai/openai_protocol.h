#pragma once
// The OpenAI-compatible wire format, pure (JSON <-> structs, no I/O): request payloads for
// /chat/completions and /completions, streamed chunks, non-streaming responses and error bodies.
//
// Token counting per chunk (what ChunkTiming::tokens holds):
//  - when a chunk that carries choices also carries `usage.completion_tokens` (vLLM's
//    `continuous_usage_stats`), the chunk's tokens are the increase of that cumulative count;
//  - otherwise every chunk with a non-empty delta (content, reasoning or tool call) counts as ONE token.
//    This is an approximation: servers that coalesce tokens (speculative decoding, detokenizer
//    buffering) send several tokens in one chunk. The whole-request `usage` (include_usage) stays the
//    authoritative output count; docs/METRICS.md says how ITL spreads a chunk's gap over its tokens.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "harness/backends/backend.h"

namespace hb::openai {

// "/chat/completions" (messages) or "/completions" (GenerationRequest::prompt set).
const char* request_path(const GenerationRequest& request);

// The JSON body. Streaming adds `stream_options.include_usage`. Sampling fields that are off
// (top_k < 0, min_p == 0, no seed, no stop, ignore_eos false, no min_tokens) are left out, so servers
// that reject unknown fields still accept the default request.
nlohmann::json build_payload(const GenerationRequest& request, const std::string& model, bool stream);

// One parsed `data:` payload of a stream.
struct StreamChunk {
  bool has_choice = false;      // choices[] was not empty
  bool role_only = false;       // a choice with a role and nothing generated (the chat prelude)
  std::string content;          // delta.content, or text for /completions
  std::string reasoning;        // delta.reasoning_content or delta.reasoning
  bool tool_call = false;       // delta.tool_calls present and not empty
  std::string finish_reason;    // "" while generating
  std::optional<TokenUsage> usage;
  std::optional<std::string> error_message;  // an {"error": ...} event
  void clear();
};

// Parses one event's data (not "[DONE]"). Returns false when it is not valid JSON or not an object;
// `why` then holds a message naming the offending text (at most 200 characters of it).
bool parse_stream_chunk(std::string_view data, StreamChunk& out, std::string& why);
// The same through a DOM parse: the reference for tests and the fallback for unusual events (error
// events, non-objects, invalid JSON). parse_stream_chunk is a SAX walk that builds no DOM.
bool parse_stream_chunk_dom(std::string_view data, StreamChunk& out, std::string& why);

// Per-stream state needed to turn cumulative usage into per-chunk token counts.
struct StreamState {
  int64_t cumulative_tokens = 0;
  bool continuous_usage = false;  // at least one choice chunk carried usage
};

// Adds a parsed chunk to the result: text per channel, a ChunkTiming at t_ns when it generated
// something, first-token / first-content times, finish reason and usage.
void apply_chunk(const StreamChunk& chunk, int64_t t_ns, StreamState& state, GenerationResult& result);

// Parses a whole non-streaming response into the result (text, finish reason, usage, one ChunkTiming at
// t_ns carrying all tokens). Returns false with `why` set when the body is not a completion.
bool parse_response(std::string_view body, int64_t t_ns, GenerationResult& result, std::string& why);

// The human message inside an error body ({"error": {"message": ...}}, {"error": "..."}, {"message"},
// {"detail"}), else the body itself; at most 300 characters, newlines flattened.
std::string error_message_from_body(std::string_view body);

// Token counts (usage fields) from the network are whole numbers in [0, kMaxTokenCount]; anything else
// (negative, fractional, 1e30, NaN) is a protocol error on that sample. The bound keeps every per-chunk
// difference inside int32 (ChunkTiming::tokens).
constexpr int64_t kMaxTokenCount = 1'000'000'000;
std::optional<int64_t> token_count_from_signed(int64_t v);
std::optional<int64_t> token_count_from_unsigned(uint64_t v);
std::optional<int64_t> token_count_from_double(double v);

// `text` cut to `max_chars` with "..." appended when it was longer.
std::string clip(std::string_view text, size_t max_chars);

}  // namespace hb::openai
