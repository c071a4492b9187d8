// openai_protocol: payloads, chunk parsing, timestamps and token counting, non-streaming responses.
#include "harness/openai/openai_protocol.h"

#include <gtest/gtest.h>

namespace hb::openai {
namespace {

using json = nlohmann::json;

GenerationRequest chat_request() {
  GenerationRequest r;
  r.id = "q1";
  r.messages = {{"system", "be brief"}, {"user", "2+2?"}};
  r.sampling.max_tokens = 32;
  return r;
}

TEST(OpenAiProtocol, ChatPayloadHasStreamUsageAndOnlyTheSamplingThatIsOn) {
  auto r = chat_request();
  json p = build_payload(r, "my-model", true);
  EXPECT_STREQ(request_path(r), "/chat/completions");
  EXPECT_EQ(p["model"], "my-model");
  EXPECT_EQ(p["stream"], true);
  EXPECT_EQ(p["stream_options"]["include_usage"], true);
  EXPECT_EQ(p["max_tokens"], 32);
  ASSERT_EQ(p["messages"].size(), 2u);
  EXPECT_EQ(p["messages"][1]["role"], "user");
  EXPECT_EQ(p["messages"][1]["content"], "2+2?");
  for (const char* absent : {"top_k", "min_p", "ignore_eos", "min_tokens", "seed", "stop", "prompt", "logprobs"})
    EXPECT_FALSE(p.contains(absent)) << absent;
  json ns = build_payload(r, "m", false);
  EXPECT_EQ(ns["stream"], false);
  EXPECT_FALSE(ns.contains("stream_options"));
}

TEST(OpenAiProtocol, SamplingFieldsWhenSet) {
  auto r = chat_request();
  r.sampling.temperature = 0.7;
  r.sampling.top_p = 0.9;
  r.sampling.top_k = 20;
  r.sampling.min_p = 0.05;
  r.sampling.seed = 1234;
  r.sampling.stop = {"\n\n", "###"};
  r.sampling.ignore_eos = true;
  r.sampling.min_tokens = 32;
  json p = build_payload(r, "m", true);
  EXPECT_DOUBLE_EQ(p["temperature"].get<double>(), 0.7);
  EXPECT_DOUBLE_EQ(p["top_p"].get<double>(), 0.9);
  EXPECT_EQ(p["top_k"], 20);
  EXPECT_DOUBLE_EQ(p["min_p"].get<double>(), 0.05);
  EXPECT_EQ(p["seed"], 1234);
  EXPECT_EQ(p["stop"], json::array({"\n\n", "###"}));
  EXPECT_EQ(p["ignore_eos"], true);
  EXPECT_EQ(p["min_tokens"], 32);
}

TEST(OpenAiProtocol, CompletionsPayloadWhenPromptIsSet) {
  GenerationRequest r;
  r.prompt = "Once upon";
  r.sampling.top_logprobs = 3;
  json p = build_payload(r, "m", true);
  EXPECT_STREQ(request_path(r), "/completions");
  EXPECT_EQ(p["prompt"], "Once upon");
  EXPECT_FALSE(p.contains("messages"));
  EXPECT_EQ(p["logprobs"], 3);
  EXPECT_FALSE(p.contains("top_logprobs"));
}

TEST(OpenAiProtocol, TokenIdPromptGoesToCompletionsAsAList) {
  GenerationRequest r;
  r.messages = {{"user", "ignored"}};
  r.prompt_token_ids = {5, 17, 42};
  EXPECT_STREQ(request_path(r), "/completions");
  auto body = build_payload(r, "m", true);
  ASSERT_TRUE(body["prompt"].is_array());
  EXPECT_EQ(body["prompt"], nlohmann::json({5, 17, 42}));
  EXPECT_FALSE(body.contains("messages"));
}

TEST(OpenAiProtocol, ParsesRoleContentReasoningFinishAndUsage) {
  StreamChunk c;
  std::string why;
  ASSERT_TRUE(parse_stream_chunk(R"({"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null})", c, why));
  EXPECT_TRUE(c.has_choice);
  EXPECT_TRUE(c.role_only);
  EXPECT_FALSE(c.usage.has_value());

  ASSERT_TRUE(parse_stream_chunk(R"({"choices":[{"delta":{"reasoning_content":"hmm"}}]})", c, why));
  EXPECT_EQ(c.reasoning, "hmm");
  EXPECT_EQ(c.content, "");
  EXPECT_FALSE(c.role_only);

  ASSERT_TRUE(parse_stream_chunk(R"({"choices":[{"delta":{"reasoning":"alt key"}}]})", c, why));
  EXPECT_EQ(c.reasoning, "alt key");

  ASSERT_TRUE(parse_stream_chunk(R"({"choices":[{"delta":{"content":"Hi"},"finish_reason":"length"}]})", c, why));
  EXPECT_EQ(c.content, "Hi");
  EXPECT_EQ(c.finish_reason, "length");

  ASSERT_TRUE(parse_stream_chunk(
      R"({"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":9,"completion_tokens_details":{"reasoning_tokens":4}}})",
      c, why));
  EXPECT_FALSE(c.has_choice);
  ASSERT_TRUE(c.usage.has_value());
  EXPECT_EQ(c.usage->prompt_tokens, 5);
  EXPECT_EQ(c.usage->completion_tokens, 9);
  EXPECT_EQ(c.usage->reasoning_tokens, 4);

  ASSERT_TRUE(parse_stream_chunk(R"({"choices":[{"index":0,"text":" world","finish_reason":null}]})", c, why));
  EXPECT_EQ(c.content, " world") << "/completions text";
}

TEST(OpenAiProtocol, SaxFastPathAgreesWithTheDomParser) {
  const char* cases[] = {
      R"({"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}],"usage":null})",
      R"({"choices":[{"delta":{"content":"a \"quoted\" \u00e9 text"},"logprobs":{"content":[{"token":"a","logprob":-0.1}]}}]})",
      R"({"choices":[{"delta":{"reasoning_content":"","reasoning":"r"}}]})",
      R"({"choices":[{"delta":{"reasoning":"r","reasoning_content":"rc"}}]})",
      R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"name":"f","arguments":"{}"}}]}}]})",
      R"({"choices":[{"delta":{"tool_calls":[]}}]})",
      R"({"choices":[{"text":"t","finish_reason":"length"}]})",
      R"({"choices":[{"text":"t","delta":{"content":"d"}}]})",
      R"({"choices":[{"delta":{"content":"d"}},{"delta":{"content":"second choice"}}]})",
      R"({"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":9,"completion_tokens_details":{"reasoning_tokens":4}}})",
      R"({"choices":[{"delta":{"content":"x"}}],"usage":{"prompt_tokens":5,"completion_tokens":2.0,"reasoning_tokens":1}})",
      R"({"usage":{"prompt_tokens":null}})",
      R"({"choices":[1]})",
      R"({"choices":null,"error":null})",
      R"({"nested":{"choices":[{"delta":{"content":"no"}}]},"choices":[{"delta":{"role":"assistant"}}]})",
      R"({"error":{"message":"boom"}})",
      R"({"error":"plain"})",
      R"([1,2])",
      R"({"choices":[{"delta":{"content":"x"}})",
      R"({})",
      // Duplicate keys: the DOM keeps the last value (found by fuzz_stream_chunk).
      R"({"choices":[],"usage":{"completion_tokens":9,"completion_tokens":[]}})",
      R"({"choices":[],"usage":{"prompt_tokens":3,"prompt_tokens":4,"completion_tokens_details":{"reasoning_tokens":1},"completion_tokens_details":7}})",
      R"({"choices":[{"delta":{"content":"a","content":"b"}}],"usage":{"completion_tokens":1},"usage":{"prompt_tokens":2}})",
      R"({"choices":[{"delta":{"content":"a"}}],"choices":[{"delta":{"content":"b"}}]})",
      // A string as the first choice or a tool call (fuzz_stream_chunk).
      R"({"choices":[":::::::5,"]})",
      R"({"choices":[{"delta":{"tool_calls":["f"]}}]})",
  };
  for (const char* c : cases) {
    StreamChunk fast, slow;
    std::string why_fast, why_slow;
    bool ok_fast = parse_stream_chunk(c, fast, why_fast);
    bool ok_slow = parse_stream_chunk_dom(c, slow, why_slow);
    ASSERT_EQ(ok_fast, ok_slow) << c;
    EXPECT_EQ(why_fast, why_slow) << c;
    EXPECT_EQ(fast.has_choice, slow.has_choice) << c;
    EXPECT_EQ(fast.role_only, slow.role_only) << c;
    EXPECT_EQ(fast.content, slow.content) << c;
    EXPECT_EQ(fast.reasoning, slow.reasoning) << c;
    EXPECT_EQ(fast.tool_call, slow.tool_call) << c;
    EXPECT_EQ(fast.finish_reason, slow.finish_reason) << c;
    EXPECT_EQ(fast.error_message, slow.error_message) << c;
    ASSERT_EQ(fast.usage.has_value(), slow.usage.has_value()) << c;
    if (fast.usage) {
      EXPECT_EQ(fast.usage->prompt_tokens, slow.usage->prompt_tokens) << c;
      EXPECT_EQ(fast.usage->completion_tokens, slow.usage->completion_tokens) << c;
      EXPECT_EQ(fast.usage->reasoning_tokens, slow.usage->reasoning_tokens) << c;
    }
  }
}

TEST(OpenAiProtocol, ErrorEventsAndInvalidJson) {
  StreamChunk c;
  std::string why;
  ASSERT_TRUE(parse_stream_chunk(R"({"error":{"message":"KV cache exhausted","code":500}})", c, why));
  ASSERT_TRUE(c.error_message.has_value());
  EXPECT_EQ(*c.error_message, "KV cache exhausted");

  EXPECT_FALSE(parse_stream_chunk(R"({"choices":[{"delta":{"content":"x"})", c, why));
  EXPECT_NE(why.find("invalid JSON"), std::string::npos) << why;
  EXPECT_NE(why.find(R"({"choices":[{"delta")"), std::string::npos) << "names the offending text: " << why;

  std::string huge = "{\"x\":\"" + std::string(1000, 'a');
  EXPECT_FALSE(parse_stream_chunk(huge, c, why));
  EXPECT_LT(why.size(), 300u) << "offending text is clipped to 200 characters";
  EXPECT_NE(why.find("..."), std::string::npos);

  EXPECT_FALSE(parse_stream_chunk("[1,2]", c, why));
  EXPECT_NE(why.find("not an object"), std::string::npos);
}

TEST(OpenAiProtocol, ApplyChunkStampsFirstTokenAnyChannelAndFirstContentApart) {
  GenerationResult r;
  StreamState st;
  StreamChunk c;
  std::string why;
  ASSERT_TRUE(parse_stream_chunk(R"({"choices":[{"delta":{"role":"assistant","content":""}}]})", c, why));
  apply_chunk(c, 100, st, r);
  EXPECT_EQ(r.first_token_ns, 0) << "the role-only prelude is not a token";
  EXPECT_TRUE(r.chunks.empty());
  ASSERT_TRUE(parse_stream_chunk(R"({"choices":[{"delta":{"reasoning_content":"think"}}]})", c, why));
  apply_chunk(c, 200, st, r);
  ASSERT_TRUE(parse_stream_chunk(R"({"choices":[{"delta":{"content":"42"}}]})", c, why));
  apply_chunk(c, 300, st, r);
  ASSERT_TRUE(parse_stream_chunk(R"({"choices":[{"delta":{},"finish_reason":"stop"}]})", c, why));
  apply_chunk(c, 400, st, r);
  ASSERT_TRUE(parse_stream_chunk(R"({"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}})", c, why));
  apply_chunk(c, 500, st, r);
  EXPECT_EQ(r.first_token_ns, 200);
  EXPECT_EQ(r.first_content_ns, 300);
  EXPECT_EQ(r.reasoning, "think");
  EXPECT_EQ(r.content, "42");
  EXPECT_EQ(r.finish_reason, "stop");
  EXPECT_EQ(r.usage.prompt_tokens, 3);
  EXPECT_EQ(r.usage.completion_tokens, 2);
  ASSERT_EQ(r.chunks.size(), 2u);
  EXPECT_EQ(r.chunks[0].t_ns, 200);
  EXPECT_EQ(r.chunks[0].tokens, 1);
  EXPECT_TRUE(r.chunks[0].reasoning);
  EXPECT_FALSE(r.chunks[1].reasoning);
}

TEST(OpenAiProtocol, ContinuousUsageGivesTokensPerChunk) {
  GenerationResult r;
  StreamState st;
  StreamChunk c;
  std::string why;
  ASSERT_TRUE(parse_stream_chunk(R"({"choices":[{"delta":{"content":"abc"}}],"usage":{"completion_tokens":3}})", c, why));
  apply_chunk(c, 10, st, r);
  ASSERT_TRUE(parse_stream_chunk(R"({"choices":[{"delta":{"content":"de"}}],"usage":{"completion_tokens":5}})", c, why));
  apply_chunk(c, 20, st, r);
  ASSERT_EQ(r.chunks.size(), 2u);
  EXPECT_EQ(r.chunks[0].tokens, 3);
  EXPECT_EQ(r.chunks[1].tokens, 2);
}

TEST(OpenAiProtocol, NonStreamingResponse) {
  GenerationResult r;
  std::string why;
  ASSERT_TRUE(parse_response(
      R"({"choices":[{"message":{"role":"assistant","content":"#### 7","reasoning_content":"5+2"},"finish_reason":"stop"}],"usage":{"prompt_tokens":4,"completion_tokens":6}})",
      77, r, why))
      << why;
  EXPECT_EQ(r.content, "#### 7");
  EXPECT_EQ(r.reasoning, "5+2");
  EXPECT_EQ(r.finish_reason, "stop");
  EXPECT_EQ(r.usage.completion_tokens, 6);
  ASSERT_EQ(r.chunks.size(), 1u);
  EXPECT_EQ(r.chunks[0].tokens, 6);
  EXPECT_EQ(r.first_token_ns, 77);
  GenerationResult bad;
  EXPECT_FALSE(parse_response("not json", 1, bad, why));
  EXPECT_FALSE(parse_response(R"({"choices":[]})", 1, bad, why));
  EXPECT_NE(why.find("no choices"), std::string::npos);
}

TEST(OpenAiProtocol, ErrorMessageFromBodies) {
  EXPECT_EQ(error_message_from_body(R"({"error":{"message":"bad key"}})"), "bad key");
  EXPECT_EQ(error_message_from_body(R"({"error":"plain"})"), "plain");
  EXPECT_EQ(error_message_from_body(R"({"detail":"Not Found"})"), "Not Found");
  EXPECT_EQ(error_message_from_body("<html>\nNope</html>"), "<html> Nope</html>");
  EXPECT_LE(error_message_from_body(std::string(1000, 'z')).size(), 303u);
}

}  // namespace
}  // namespace hb::openai

namespace hb::openai {
namespace {

// Every number that becomes an integer is range-checked: the SAX fast path and the DOM parser refuse the
// same values, with a message naming the field, and nothing is cast out of range (UBSan would say).
TEST(OpenAiProtocol, TokenCountsOutOfRangeAreProtocolErrorsInBothParsers) {
  for (std::string v : {"1e30", "-1", "-0.5", "12.5", "1e300", "-1e300", "18446744073709551615", "9223372036854775807",
                        "-9223372036854775808", "1000000001"}) {
    for (std::string field : {"prompt_tokens", "completion_tokens", "reasoning_tokens"}) {
      std::string chunk = R"({"choices":[],"usage":{")" + field + "\":" + v + "}}";
      StreamChunk fast, slow;
      std::string why_fast, why_slow;
      EXPECT_FALSE(parse_stream_chunk(chunk, fast, why_fast)) << chunk;
      EXPECT_FALSE(parse_stream_chunk_dom(chunk, slow, why_slow)) << chunk;
      EXPECT_EQ(why_fast, why_slow);
      EXPECT_NE(why_fast.find(field), std::string::npos) << why_fast;
    }
    std::string details = R"({"choices":[],"usage":{"completion_tokens_details":{"reasoning_tokens":)" + v + "}}}";
    StreamChunk c;
    std::string why;
    EXPECT_FALSE(parse_stream_chunk(details, c, why)) << details;
    GenerationResult r;
    std::string body = R"({"choices":[{"message":{"content":"hi"},"finish_reason":"stop"}],"usage":{"completion_tokens":)" + v + "}}";
    EXPECT_FALSE(parse_response(body, 1, r, why)) << body;
    EXPECT_NE(why.find("completion_tokens"), std::string::npos) << why;
  }
  // In range, including a float that is a whole number and the bound itself.
  for (std::string v : {"0", "7", "7.0", "1000000000", "1e9"}) {
    StreamChunk c;
    std::string why;
    EXPECT_TRUE(parse_stream_chunk(R"({"choices":[],"usage":{"completion_tokens":)" + v + "}}", c, why)) << v << why;
    ASSERT_TRUE(c.usage);
    EXPECT_GE(c.usage->completion_tokens, 0);
  }
  // Numbers elsewhere (not counts) are not checked: a huge logprob or index is no integer of ours.
  StreamChunk c;
  std::string why;
  EXPECT_TRUE(parse_stream_chunk(R"({"created":1e30,"choices":[{"index":-1e300,"delta":{"content":"x"}}]})", c, why)) << why;
}

TEST(OpenAiProtocol, ContinuousUsageAtTheBoundStaysInsideInt32PerChunk) {
  StreamState state;
  GenerationResult r;
  StreamChunk c;
  std::string why;
  ASSERT_TRUE(parse_stream_chunk(R"({"choices":[{"delta":{"content":"x"}}],"usage":{"completion_tokens":1000000000}})", c, why));
  apply_chunk(c, 1, state, r);
  ASSERT_EQ(r.chunks.size(), 1u);
  EXPECT_EQ(r.chunks[0].tokens, 1000000000);
}

TEST(OpenAiProtocol, NanAndInfinityAreNotJson) {
  StreamChunk c;
  std::string why;
  EXPECT_FALSE(parse_stream_chunk(R"({"usage":{"completion_tokens":NaN}})", c, why));
  EXPECT_FALSE(parse_stream_chunk(R"({"usage":{"completion_tokens":Infinity}})", c, why));
}

}  // namespace
}  // namespace hb::openai
