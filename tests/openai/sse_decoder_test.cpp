// SseDecoder against golden transcripts (tests/data/http/*.sse with *.events.json), fed whole, split at
// every byte boundary, one byte at a time, and in seeded random pieces: the events must never change.
#include "harness/openai/sse_decoder.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace hb::openai {
namespace {

using Events = std::vector<std::pair<std::string, std::string>>;  // (event, data)

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  EXPECT_TRUE(f.good()) << path;
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

Events expected_events(const std::string& name) {
  auto j = nlohmann::json::parse(read_file(std::string(HB_TEST_DATA_DIR) + "/http/" + name + ".events.json"));
  Events out;
  for (const auto& e : j) out.emplace_back(e["event"].get<std::string>(), e["data"].get<std::string>());
  return out;
}

void drain(SseDecoder& d, Events& out) {
  SseEvent ev;
  while (d.next(ev)) out.emplace_back(std::string(ev.event), std::string(ev.data));
}

Events decode_pieces(const std::vector<std::string_view>& pieces) {
  SseDecoder d;
  Events out;
  for (auto p : pieces) {
    d.push(p);
    drain(d, out);
  }
  d.finish();
  drain(d, out);
  return out;
}

class Golden : public ::testing::TestWithParam<const char*> {};

TEST_P(Golden, SameEventsHoweverTheBytesAreSplit) {
  const std::string name = GetParam();
  const std::string raw = read_file(std::string(HB_TEST_DATA_DIR) + "/http/" + name + ".sse");
  const Events want = expected_events(name);
  ASSERT_FALSE(want.empty());
  std::string_view all(raw);
  EXPECT_EQ(decode_pieces({all}), want) << "whole";
  for (size_t cut = 0; cut <= raw.size(); ++cut)
    ASSERT_EQ(decode_pieces({all.substr(0, cut), all.substr(cut)}), want) << name << ": split at byte " << cut;
  std::vector<std::string_view> bytes;
  for (size_t i = 0; i < raw.size(); ++i) bytes.push_back(all.substr(i, 1));
  EXPECT_EQ(decode_pieces(bytes), want) << "one byte per read";
  std::mt19937 rng(42);
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<std::string_view> pieces;
    size_t pos = 0;
    while (pos < raw.size()) {
      size_t len = std::uniform_int_distribution<size_t>(0, 40)(rng);
      pieces.push_back(all.substr(pos, len));
      pos += len;
    }
    ASSERT_EQ(decode_pieces(pieces), want) << name << ": random trial " << trial;
  }
}

INSTANTIATE_TEST_SUITE_P(SseGolden, Golden,
                         ::testing::Values("vllm_chat_stream", "crlf_comments_multiline", "no_trailing_blank_line"));

TEST(SseDecoder, SeveralEventsInOneReadAndNothingUntilTheBlankLine) {
  SseDecoder d;
  Events out;
  d.push("data: a\n\ndata: b\n\ndata: c\n");
  drain(d, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].second, "a");
  EXPECT_EQ(out[1].second, "b");
  EXPECT_GT(d.pending_bytes(), 0u) << "the third event waits for its blank line";
  d.push("\n");
  drain(d, out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[2].second, "c");
  EXPECT_FALSE(d.flushed_partial());
}

TEST(SseDecoder, CrLfSplitAcrossReadsIsOneLineEnd) {
  SseDecoder d;
  Events out;
  d.push("data: x\r");
  drain(d, out);
  d.push("\n\r");
  drain(d, out);
  d.push("\ndata: y\r\n\r\n");
  drain(d, out);
  ASSERT_EQ(out.size(), 2u) << "\\r|\\n must not count as two line ends";
  EXPECT_EQ(out[0].second, "x");
  EXPECT_EQ(out[1].second, "y");
}

TEST(SseDecoder, FinishFlushesAnUnterminatedEventAndSaysSo) {
  SseDecoder d;
  Events out;
  d.push("data: [DONE]");
  drain(d, out);
  EXPECT_TRUE(out.empty());
  d.finish();
  drain(d, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].second, "[DONE]");
  EXPECT_TRUE(d.flushed_partial());
}

TEST(SseDecoder, OnlyCommentsProduceNoEvents) {
  SseDecoder d;
  Events out;
  d.push(": ping\n\n: ping\r\n\r\n:\n\n");
  d.finish();
  drain(d, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(d.events(), 0u);
}

TEST(SseDecoder, ResetStartsANewStream) {
  SseDecoder d;
  Events out;
  d.push("data: half");
  d.reset();
  d.push("data: fresh\n\n");
  drain(d, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].second, "fresh");
}

TEST(SseDecoder, BuffersStopGrowingInSteadyState) {
  // After warm-up, a long stream of similar events must not keep growing the internal buffers.
  SseDecoder d;
  Events sink;
  std::string ev = "data: {\"choices\":[{\"delta\":{\"content\":\"tok\"}}]}\n\n";
  for (int i = 0; i < 100; ++i) {
    d.push(std::string_view(ev).substr(0, 17));
    drain(d, sink);
    d.push(std::string_view(ev).substr(17));
    drain(d, sink);
  }
  size_t before = d.pending_bytes();
  for (int i = 0; i < 10000; ++i) {
    d.push(std::string_view(ev).substr(0, 17));
    SseEvent e;
    while (d.next(e)) {
    }
    d.push(std::string_view(ev).substr(17));
    while (d.next(e)) {
    }
  }
  EXPECT_EQ(d.pending_bytes(), before);
  EXPECT_EQ(d.events(), 10100u);
}

}  // namespace
}  // namespace hb::openai

namespace hb::openai {
namespace {

// A server that sends one endless event (100 MB without a blank line) cannot make the decoder hold it:
// it stops at its limit and says so.
TEST(SseDecoder, AHundredMegabyteSingleEventOverflowsWithBoundedMemory) {
  SseDecoder d;
  d.push("data: ");
  std::string piece(1 << 16, 'x');
  size_t fed = 0;
  while (fed < (100u << 20) && !d.overflowed()) {
    d.push(piece);
    fed += piece.size();
    SseEvent ev;
    EXPECT_FALSE(d.next(ev));
    ASSERT_LE(d.pending_bytes(), SseDecoder::kDefaultMaxPendingBytes);
  }
  EXPECT_TRUE(d.overflowed());
  EXPECT_LE(fed, SseDecoder::kDefaultMaxPendingBytes + piece.size());
  d.push("\n\n");  // ignored once overflowed
  SseEvent ev;
  EXPECT_FALSE(d.next(ev));
  EXPECT_EQ(d.pending_bytes(), 0u);
  d.reset();
  EXPECT_FALSE(d.overflowed());
}

TEST(SseDecoder, ManySmallDataLinesOfOneEventAlsoOverflow) {
  SseDecoder d(4096);
  for (int i = 0; i < 1000 && !d.overflowed(); ++i) {
    d.push("data: 0123456789\n");
    SseEvent ev;
    EXPECT_FALSE(d.next(ev));
  }
  EXPECT_TRUE(d.overflowed());
}

TEST(SseDecoder, EventLineWithoutTrailingNewlineAtEof) {
  SseDecoder d;
  d.push("data: {\"a\":1}\n\ndata: [DONE]");
  Events got;
  drain(d, got);
  ASSERT_EQ(got.size(), 1u);
  d.finish();
  drain(d, got);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].second, "[DONE]");
  EXPECT_TRUE(d.flushed_partial());
}

TEST(SseDecoder, RepeatedDoneAndDataAfterDoneAreOrdinaryEvents) {
  SseDecoder d;
  d.push("data: [DONE]\n\ndata: [DONE]\n\ndata: {\"late\":true}\n\n");
  Events got;
  drain(d, got);
  ASSERT_EQ(got.size(), 3u);  // the backend, not the framing, decides that nothing after [DONE] counts
  EXPECT_EQ(got[2].second, "{\"late\":true}");
}

}  // namespace
}  // namespace hb::openai
