// The OpenAI request schema of `hybench serve`: every prompt form, every field's type and range, and the
// error a client gets for each malformed field (it names the field and what was expected, never a parser's
// internal message).
#include <gtest/gtest.h>

#include "harness/http/openai_request.h"

namespace hb::http {
namespace {

// The BadRequest of parsing `body`, or a failure when it parses.
BadRequest error_of(const std::string& body, bool chat = false) {
  try {
    parse_openai_request(body, chat);
  } catch (const BadRequest& e) {
    return e;
  }
  ADD_FAILURE() << "accepted: " << body;
  return BadRequest("", "");
}

TEST(OpenAIRequest, PromptForms) {
  auto one = parse_openai_request(R"({"prompt":"hi"})", false);
  ASSERT_EQ(one.prompts.size(), 1u);
  EXPECT_EQ(one.prompts[0].text, "hi");
  EXPECT_FALSE(one.prompts[0].is_tokens());
  auto strings = parse_openai_request(R"({"prompt":["a","b","c"]})", false);
  ASSERT_EQ(strings.prompts.size(), 3u);
  EXPECT_EQ(strings.prompts[2].text, "c");
  auto ids = parse_openai_request(R"({"prompt":[1,2,3]})", false);
  ASSERT_EQ(ids.prompts.size(), 1u);
  EXPECT_EQ(ids.prompts[0].ids, (std::vector<int32_t>{1, 2, 3}));
  auto lists = parse_openai_request(R"({"prompt":[[1,2],[3]]})", false);
  ASSERT_EQ(lists.prompts.size(), 2u);
  EXPECT_EQ(lists.prompts[1].ids, std::vector<int32_t>{3});
  // lm-eval's log-likelihood request.
  auto ll = parse_openai_request(R"({"model":"m","prompt":[[5,6,7]],"echo":true,"max_tokens":0,"logprobs":1,"temperature":0,"seed":1234})", false);
  EXPECT_TRUE(ll.echo);
  EXPECT_TRUE(ll.logprobs);
  EXPECT_EQ(ll.top_logprobs, 1);
  EXPECT_EQ(ll.max_tokens.value(), 0);
  EXPECT_EQ(ll.seed.value(), 1234u);
  EXPECT_EQ(ll.temperature, 0.0);
}

TEST(OpenAIRequest, MalformedPromptsNameTheElement) {
  EXPECT_EQ(error_of(R"({})").param(), "prompt");
  EXPECT_EQ(error_of(R"({"prompt":[]})").param(), "prompt");
  std::string m = error_of(R"({"prompt":["a",2]})").what();
  EXPECT_NE(m.find("prompt[1]"), std::string::npos) << m;
  EXPECT_NE(m.find("an integer"), std::string::npos) << m;
  m = error_of(R"({"prompt":[1,"x"]})").what();
  EXPECT_NE(m.find("prompt[1]"), std::string::npos) << m;
  EXPECT_NE(error_of(R"({"prompt":[[1],[]]})").what(), std::string());
  EXPECT_EQ(error_of(R"({"prompt":[-4]})").param(), "prompt");
  EXPECT_EQ(error_of(R"({"prompt":[1.5]})").param(), "prompt[0]");
  EXPECT_EQ(error_of(R"({"prompt":{"a":1}})").param(), "prompt");
  EXPECT_EQ(error_of(R"({"prompt":7})").param(), "prompt");
}

TEST(OpenAIRequest, ChatMessages) {
  auto r = parse_openai_request(
      R"({"messages":[{"role":"developer","content":"be brief"},{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},{"role":"assistant","content":null}],"logprobs":true,"top_logprobs":3})",
      true);
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_EQ(r.messages[0].role, "system");
  EXPECT_EQ(r.messages[1].content, "ab");
  EXPECT_EQ(r.messages[2].content, "");
  EXPECT_TRUE(r.logprobs);
  EXPECT_EQ(r.top_logprobs, 3);
  EXPECT_EQ(error_of(R"({"messages":[]})", true).param(), "messages");
  EXPECT_EQ(error_of(R"({"model":"m"})", true).param(), "messages");
  EXPECT_EQ(error_of(R"({"messages":"hi"})", true).param(), "messages");
  EXPECT_EQ(error_of(R"({"messages":[{"content":"x"}]})", true).param(), "messages[0].role");
  EXPECT_EQ(error_of(R"({"messages":[{"role":"user","content":5}]})", true).param(), "messages[0].content");
  EXPECT_EQ(error_of(R"({"messages":[{"role":"wizard","content":"x"}]})", true).param(), "messages");
  EXPECT_EQ(error_of(R"({"messages":[{"role":"user","content":[{"type":"image_url","image_url":{}}]}]})", true).param(), "messages");
  // Chat's top_logprobs needs logprobs; chat has no echo; logprobs is a bool on chat, an int on completions.
  EXPECT_EQ(error_of(R"({"messages":[{"role":"user","content":"x"}],"top_logprobs":2})", true).param(), "top_logprobs");
  EXPECT_EQ(error_of(R"({"messages":[{"role":"user","content":"x"}],"logprobs":true,"top_logprobs":21})", true).param(), "top_logprobs");
  EXPECT_EQ(error_of(R"({"messages":[{"role":"user","content":"x"}],"echo":true})", true).param(), "echo");
  EXPECT_EQ(error_of(R"({"messages":[{"role":"user","content":"x"}],"logprobs":1})", true).param(), "logprobs");
  EXPECT_EQ(error_of(R"({"prompt":"x","logprobs":true})").param(), "logprobs");
  EXPECT_EQ(error_of(R"({"prompt":"x","logprobs":21})").param(), "logprobs");
  // max_completion_tokens wins over max_tokens on chat.
  auto m = parse_openai_request(R"({"messages":[{"role":"user","content":"x"}],"max_tokens":9,"max_completion_tokens":4})", true);
  EXPECT_EQ(m.max_tokens.value(), 4);
  EXPECT_EQ(m.max_tokens_field, "max_completion_tokens");
}

TEST(OpenAIRequest, EveryFieldNamesItselfAndTheExpectedType) {
  struct Case {
    const char* body;
    const char* param;
    const char* expected;  // in the message
  };
  const Case cases[] = {
      {R"({"prompt":"x","max_tokens":"10"})", "max_tokens", "an integer"},
      {R"({"prompt":"x","max_tokens":-1})", "max_tokens", "got -1"},
      {R"({"prompt":"x","max_tokens":1e30})", "max_tokens", "an integer in"},
      {R"({"prompt":"x","temperature":"hot"})", "temperature", "a number"},
      {R"({"prompt":"x","temperature":-0.1})", "temperature", "got -0.1"},
      {R"({"prompt":"x","top_p":0})", "top_p", "(0"},
      {R"({"prompt":"x","top_p":1.5})", "top_p", "got 1.5"},
      {R"({"prompt":"x","top_k":"5"})", "top_k", "an integer"},
      {R"({"prompt":"x","min_p":1})", "min_p", "[0, 1)"},
      {R"({"prompt":"x","seed":"abc"})", "seed", "an integer"},
      {R"({"prompt":"x","n":0})", "n", "got 0"},
      {R"({"prompt":"x","n":"2"})", "n", "an integer"},
      {R"({"prompt":"x","n":129})", "n", "[1, 128]"},
      {R"({"prompt":["a","b"],"n":100})", "n", "at most 128"},
      {R"({"prompt":"x","stream":"yes"})", "stream", "a boolean"},
      {R"({"prompt":"x","stream_options":{"include_usage":true}})", "stream_options", "stream"},
      {R"({"prompt":"x","stream":true,"stream_options":{"include_usage":1}})", "include_usage", "a boolean"},
      {R"({"prompt":"x","stop":5})", "stop", "a string or an array of strings"},
      {R"({"prompt":"x","stop":["a",3]})", "stop[1]", "a string"},
      {R"({"prompt":"x","stop":[""]})", "stop", "empty"},
      {R"({"prompt":"x","stop_token_ids":"2"})", "stop_token_ids", "an array"},
      {R"({"prompt":"x","echo":1})", "echo", "a boolean"},
      {R"({"prompt":"x","ignore_eos":"true"})", "ignore_eos", "a boolean"},
      {R"({"prompt":"x","min_tokens":-2})", "min_tokens", "got -2"},
      {R"({"prompt":"x","model":7})", "model", "a string"},
      {R"({"prompt":"x","add_special_tokens":"no"})", "add_special_tokens", "a boolean"},
      {R"({"prompt":"x","return_tokens_as_token_ids":1})", "return_tokens_as_token_ids", "a boolean"},
      {R"({"prompt":"x","frequency_penalty":0.5})", "frequency_penalty", "not supported"},
      {R"({"prompt":"x","presence_penalty":"a"})", "presence_penalty", "a number"},
      {R"({"prompt":"x","logit_bias":{"5":10}})", "logit_bias", "not supported"},
      {R"({"prompt":"x","best_of":3})", "best_of", "not supported"},
      {R"({"prompt":"x","suffix":"end"})", "suffix", "not supported"},
      {R"({"prompt":"x","response_format":{"type":"json_object"}})", "response_format", "not supported"},
  };
  for (const auto& c : cases) {
    BadRequest e = error_of(c.body);
    EXPECT_EQ(e.param(), c.param) << c.body;
    const std::string m = e.what();
    EXPECT_NE(m.find(c.expected), std::string::npos) << c.body << " -> " << m;
    EXPECT_EQ(m.find("json.exception"), std::string::npos) << m;
  }
}

TEST(OpenAIRequest, BodiesThatAreNotObjects) {
  for (const char* body : {"", "{", "[1,2]", "\"prompt\"", "null", "{\"prompt\":\"x\",}", "\xff\xfe"}) {
    BadRequest e = error_of(body);
    EXPECT_EQ(e.param(), "") << body;
    EXPECT_EQ(std::string(e.what()).find("json.exception"), std::string::npos) << e.what();
  }
}

TEST(OpenAIRequest, NullMeansUnsetAndDefaults) {
  auto r = parse_openai_request(R"({"prompt":"x","max_tokens":null,"stop":null,"seed":null,"n":null,"logprobs":null,"top_k":0,"best_of":2,"n":2})", false);
  EXPECT_FALSE(r.max_tokens);
  EXPECT_TRUE(r.stop.empty());
  EXPECT_FALSE(r.seed);
  EXPECT_EQ(r.n, 2);
  EXPECT_FALSE(r.logprobs);
  EXPECT_EQ(r.top_k, -1);
  EXPECT_EQ(r.temperature, 1.0);
  // Integers written as floats (JavaScript clients) and negative seeds are fine.
  auto f = parse_openai_request(R"({"prompt":"x","max_tokens":16.0,"seed":-1,"frequency_penalty":0,"logit_bias":{},"stream":true,"stream_options":{"include_usage":true}})", false);
  EXPECT_EQ(f.max_tokens.value(), 16);
  EXPECT_EQ(f.seed.value(), uint64_t(-1));
  EXPECT_TRUE(f.include_usage);
}

}  // namespace
}  // namespace hb::http
