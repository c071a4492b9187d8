// SSE decoding and chunk parsing throughput: bytes/s and events/s for a vLLM-like chat stream fed in
// read-sized pieces, and the per-chunk cost of the JSON layer (parse + apply) that follows the decoder.
#include <benchmark/benchmark.h>

#include <string>

#include "harness/openai/openai_protocol.h"
#include "harness/openai/sse_decoder.h"

namespace {

std::string chat_event(int i) {
  return "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":"
         "[{\"index\":0,\"delta\":{\"content\":\" tok" + std::to_string(i % 100) +
         "\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n";
}

std::string stream_of(int events) {
  std::string s;
  for (int i = 0; i < events; ++i) s += chat_event(i);
  return s;
}

// Feeds a 1,000-event stream in pieces of state.range(0) bytes (1 = worst case, 16384 = a large read).
void BM_SseDecode(benchmark::State& state) {
  const std::string stream = stream_of(1000);
  const size_t piece = static_cast<size_t>(state.range(0));
  hb::openai::SseDecoder d;
  size_t events = 0;
  for (auto _ : state) {
    d.reset();
    for (size_t pos = 0; pos < stream.size(); pos += piece) {
      d.push(std::string_view(stream).substr(pos, piece));
      hb::openai::SseEvent ev;
      while (d.next(ev)) {
        benchmark::DoNotOptimize(ev.data.data());
        ++events;
      }
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * stream.size()));
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SseDecode)->Arg(1)->Arg(64)->Arg(1460)->Arg(16384);

// One event per read, the common case for a paced stream: decoder + JSON parse + apply to the result.
void BM_ChunkDecodeParseApply(benchmark::State& state) {
  const std::string ev = chat_event(7);
  hb::openai::SseDecoder d;
  hb::openai::StreamChunk chunk;
  hb::openai::StreamState st;
  hb::GenerationResult result;
  std::string why;
  int64_t t = 1;
  for (auto _ : state) {
    d.push(ev);
    hb::openai::SseEvent e;
    while (d.next(e)) {
      hb::openai::parse_stream_chunk(e.data, chunk, why);
      hb::openai::apply_chunk(chunk, ++t, st, result);
    }
    if (result.chunks.size() > 4096) {  // keep memory bounded, as a real request would end
      result.chunks.clear();
      result.content.clear();
    }
  }
  state.counters["chunks/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ChunkDecodeParseApply);

}  // namespace

BENCHMARK_MAIN();
