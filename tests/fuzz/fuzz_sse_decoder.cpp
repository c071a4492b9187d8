// SseDecoder fed the same bytes whole and in pieces chosen by the input itself: the events must be the
// same however the bytes are split, and the decoder's memory stays under its limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "harness/openai/sse_decoder.h"

using hb::openai::SseDecoder;
using hb::openai::SseEvent;
using Events = std::vector<std::pair<std::string, std::string>>;

namespace {

constexpr size_t kLimit = 4096;  // small, so that overflow is reached often

void drain(SseDecoder& d, Events& out) {
  SseEvent ev;
  while (d.next(ev)) out.emplace_back(std::string(ev.event), std::string(ev.data));
}

Events decode(std::string_view body, const std::vector<size_t>& cuts, bool& overflowed) {
  SseDecoder d(kLimit);
  Events out;
  size_t pos = 0;
  for (size_t cut : cuts) {
    cut = std::min(cut, body.size());
    if (cut < pos) continue;
    d.push(body.substr(pos, cut - pos));
    drain(d, out);
    if (d.pending_bytes() > kLimit) std::abort();
    pos = cut;
  }
  d.push(body.substr(pos));
  drain(d, out);
  d.finish();
  drain(d, out);
  overflowed = d.overflowed();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // The first byte picks the piece size pattern; the rest is the stream.
  uint8_t pattern = data[0];
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<size_t> cuts;
  size_t step = 1 + pattern % 17;
  for (size_t at = step; at < body.size(); at += step + (at * 7 + pattern) % 5) cuts.push_back(at);
  bool of_whole = false, of_pieces = false;
  Events whole = decode(body, {}, of_whole);
  Events pieces = decode(body, cuts, of_pieces);
  // Overflow depends on how much arrives at once; without it the events must be identical.
  if (!of_whole && !of_pieces && whole != pieces) std::abort();
  return 0;
}
