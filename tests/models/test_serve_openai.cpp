// `hybench serve` against the OpenAI API reference, over raw HTTP (no client library between the test and
// the wire): routes and methods, the model check, malformed requests, n and prompt batches, token-id
// prompts, echo with prompt logprobs (lm-eval's log-likelihood request), streamed logprobs with usage, the
// tokenizer routes, and the access log. tests/models/serve_openai_sdk_test.py drives the same server with
// the official Python SDK.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/models/serve_process.h"

namespace hb {
namespace {
using nlohmann::json;
using testing_serve::server;

struct Reply {
  int status = 0;
  std::string headers;  // raw header block
  std::string body;     // de-chunked
  json j() const { return json::parse(body, nullptr, false); }
  std::vector<json> events() const {  // the `data:` events of a stream, [DONE] as a string
    std::vector<json> out;
    size_t at = 0;
    while ((at = body.find("data: ", at)) != std::string::npos) {
      size_t end = body.find("\n\n", at);
      std::string d = body.substr(at + 6, end - at - 6);
      out.push_back(d == "[DONE]" ? json("[DONE]") : json::parse(d, nullptr, false));
      at = end;
    }
    return out;
  }
};

std::string dechunk(const std::string& s) {
  std::string out;
  size_t at = 0;
  for (;;) {
    size_t eol = s.find("\r\n", at);
    if (eol == std::string::npos) break;
    size_t n = std::stoul(s.substr(at, eol - at), nullptr, 16);
    if (n == 0) break;
    out += s.substr(eol + 2, n);
    at = eol + 2 + n + 2;
  }
  return out;
}

Reply http(const std::string& method, const std::string& path, const std::string& body = "") {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(uint16_t(server().port()));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  Reply r;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return r;
  }
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n" + body;
  ::send(fd, req.data(), req.size(), 0);
  std::string raw;
  char buf[65536];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) raw.append(buf, size_t(n));
  ::close(fd);
  size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos) return r;
  r.headers = raw.substr(0, head_end);
  r.status = std::stoi(raw.substr(9, 3));
  r.body = raw.substr(head_end + 4);
  if (r.headers.find("Transfer-Encoding: chunked") != std::string::npos) r.body = dechunk(r.body);
  return r;
}

Reply post(const std::string& path, const json& body) { return http("POST", path, body.dump()); }

std::vector<int> tokenize(const std::string& text) {
  auto r = post("/tokenize", {{"prompt", text}, {"add_special_tokens", false}});
  EXPECT_EQ(r.status, 200) << r.body;
  return r.j().value("tokens", std::vector<int>{});
}

TEST(ServeOpenAI, RoutesMethodsAndTheModelCheck) {
  ASSERT_GT(server().port(), 0);
  auto r = http("GET", "/v1/completions");
  EXPECT_EQ(r.status, 405);
  EXPECT_NE(r.headers.find("Allow: POST"), std::string::npos) << r.headers;
  r = http("DELETE", "/v1/models");
  EXPECT_EQ(r.status, 405);
  EXPECT_NE(r.headers.find("Allow: GET"), std::string::npos) << r.headers;
  r = http("GET", "/v1/models/hybrid-tiny");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.j().value("id", ""), "hybrid-tiny");
  r = http("GET", "/v1/models/gpt-4");
  EXPECT_EQ(r.status, 404);
  r = post("/v1/completions", {{"model", "gpt-4"}, {"prompt", "x"}, {"max_tokens", 1}});
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.j()["error"].value("param", ""), "model");
  EXPECT_EQ(http("GET", "/v2/nothing").status, 404);
}

TEST(ServeOpenAI, MalformedRequestsAre400sNamingTheField) {
  const std::pair<json, std::string> chat_cases[] = {
      {{{"messages", json::array()}}, "messages"},
      {{{"messages", {{{"role", "user"}, {"content", "x"}}}}, {"n", 0}}, "n"},
      {{{"messages", {{{"role", "user"}, {"content", "x"}}}}, {"max_tokens", "10"}}, "max_tokens"},
      {{{"messages", {{{"role", "user"}, {"content", "x"}}}}, {"max_tokens", 1000000000}}, "max_tokens"},
      {{{"messages", {{{"role", "user"}, {"content", "x"}}}}, {"temperature", "hot"}}, "temperature"},
  };
  for (const auto& [body, param] : chat_cases) {
    auto r = post("/v1/chat/completions", body);
    EXPECT_EQ(r.status, 400) << body.dump();
    json e = r.j()["error"];
    EXPECT_EQ(e.value("param", ""), param) << r.body;
    EXPECT_NE(e.value("message", "").find(param), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("json.exception"), std::string::npos) << r.body;
  }
  auto r = post("/v1/completions", {{"prompt", {{1, 2}, {3, 100000}}}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("100000"), std::string::npos) << r.body;
  r = http("POST", "/v1/completions", "{\"prompt\": ");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body.find("json.exception"), std::string::npos) << r.body;
  // max_tokens 0 only with echo; echo + logprobs not in a stream.
  EXPECT_EQ(post("/v1/completions", {{"prompt", "x"}, {"max_tokens", 0}}).status, 400);
  EXPECT_EQ(post("/v1/completions", {{"prompt", "x"}, {"echo", true}, {"logprobs", 1}, {"stream", true}}).status, 400);
}

TEST(ServeOpenAI, PromptBatchesTimesNWithTheirIndexes) {
  auto ids = tokenize("two words");
  ASSERT_FALSE(ids.empty());
  auto r = post("/v1/completions", {{"prompt", {ids, ids}}, {"n", 2}, {"max_tokens", 3}, {"temperature", 1.0}, {"seed", 9}, {"ignore_eos", true}});
  ASSERT_EQ(r.status, 200) << r.body;
  json j = r.j();
  ASSERT_EQ(j["choices"].size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(j["choices"][i]["index"], i);
  // The same prompt and sample number give the same seed: choice 0 == choice 2, choice 1 == choice 3.
  EXPECT_EQ(j["choices"][0]["text"], j["choices"][2]["text"]);
  EXPECT_EQ(j["choices"][1]["text"], j["choices"][3]["text"]);
  EXPECT_EQ(j["usage"]["prompt_tokens"], 2 * int(ids.size()));
  EXPECT_EQ(j["usage"]["completion_tokens"], 12);
  // A list of strings.
  r = post("/v1/completions", {{"prompt", {"a", "bb", "ccc"}}, {"max_tokens", 2}, {"temperature", 0}, {"ignore_eos", true}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.j()["choices"].size(), 3u);
}

TEST(ServeOpenAI, EchoScoresThePromptAsLmEvalAsks) {
  auto context = tokenize("The cat sat");
  auto continuation = tokenize(" on the mat");
  std::vector<int> prompt = context;
  prompt.insert(prompt.end(), continuation.begin(), continuation.end());
  auto r = post("/v1/completions", {{"model", "hybrid-tiny"}, {"prompt", {prompt}}, {"echo", true}, {"max_tokens", 1}, {"logprobs", 1},
                                    {"temperature", 0}, {"seed", 1234}});
  ASSERT_EQ(r.status, 200) << r.body;
  json lp = r.j()["choices"][0]["logprobs"];
  ASSERT_EQ(lp["token_logprobs"].size(), prompt.size() + 1);
  EXPECT_TRUE(lp["token_logprobs"][0].is_null());
  EXPECT_TRUE(lp["top_logprobs"][0].is_null());
  for (size_t i = 1; i < prompt.size() + 1; ++i) {
    ASSERT_TRUE(lp["token_logprobs"][i].is_number()) << i;
    EXPECT_LE(lp["token_logprobs"][i].get<double>(), 0.0);
    double best = -1e9;
    for (auto& [k, v] : lp["top_logprobs"][i].items()) best = std::max(best, v.get<double>());
    EXPECT_GE(best + 1e-6, lp["token_logprobs"][i].get<double>()) << i;
  }
  // The generated token is greedy: its logprob is the best of its top list (lm-eval's is_greedy).
  double best = -1e9;
  for (auto& [k, v] : lp["top_logprobs"].back().items()) best = std::max(best, v.get<double>());
  EXPECT_EQ(best, lp["token_logprobs"].back().get<double>());
  EXPECT_EQ(lp["tokens"].size(), prompt.size() + 1);
  EXPECT_EQ(lp["text_offset"][0], 0);
  // Scoring alone: max_tokens 0 gives the same prompt scores and no completion tokens.
  auto r0 = post("/v1/completions", {{"prompt", prompt}, {"echo", true}, {"max_tokens", 0}, {"logprobs", 0}});
  ASSERT_EQ(r0.status, 200) << r0.body;
  json lp0 = r0.j()["choices"][0]["logprobs"];
  ASSERT_EQ(lp0["token_logprobs"].size(), prompt.size());
  for (size_t i = 1; i < prompt.size(); ++i) EXPECT_NEAR(lp0["token_logprobs"][i].get<double>(), lp["token_logprobs"][i].get<double>(), 1e-6);
  EXPECT_EQ(r0.j()["usage"]["completion_tokens"], 0);
  // Echo alone (no logprobs, max_tokens 0): the prompt back, nothing run.
  auto e0 = post("/v1/completions", {{"prompt", "Hi there"}, {"echo", true}, {"max_tokens", 0}});
  ASSERT_EQ(e0.status, 200) << e0.body;
  EXPECT_EQ(e0.j()["choices"][0]["text"], "Hi there");
  EXPECT_TRUE(e0.j()["choices"][0]["logprobs"].is_null());
  EXPECT_EQ(e0.j()["usage"]["completion_tokens"], 0);
  // Echo of text: the prompt text comes first.
  auto t = post("/v1/completions", {{"prompt", "Hello"}, {"echo", true}, {"max_tokens", 2}, {"temperature", 0}, {"ignore_eos", true}});
  EXPECT_EQ(t.j()["choices"][0]["text"].get<std::string>().rfind("Hello", 0), 0u) << t.body;
}

TEST(ServeOpenAI, StreamedChatWithLogprobsNAndUsage) {
  json body = {{"messages", {{{"role", "user"}, {"content", "stream"}}}}, {"max_tokens", 5}, {"n", 2}, {"temperature", 0}, {"ignore_eos", true},
               {"stream", true}, {"stream_options", {{"include_usage", true}}}, {"logprobs", true}, {"top_logprobs", 2}};
  auto r = post("/v1/chat/completions", body);
  ASSERT_EQ(r.status, 200);
  auto events = r.events();
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.back(), json("[DONE]"));
  json usage = events[events.size() - 2];
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["completion_tokens"], 10);
  std::map<int, int> logprobs, finished;
  std::map<int, std::string> text;
  for (size_t i = 0; i + 2 < events.size(); ++i) {
    const json& c = events[i]["choices"][0];
    const int idx = c["index"];
    text[idx] += c["delta"].value("content", "");
    if (c["logprobs"].is_object()) {
      for (const auto& e : c["logprobs"]["content"]) {
        ++logprobs[idx];
        EXPECT_EQ(e["top_logprobs"].size(), 2u);
      }
    }
    if (!c["finish_reason"].is_null()) ++finished[idx];
  }
  EXPECT_EQ(logprobs[0], 5);
  EXPECT_EQ(logprobs[1], 5);
  EXPECT_EQ(finished[0], 1);
  EXPECT_EQ(finished[1], 1);
  EXPECT_EQ(text[0], text[1]);  // greedy
  // The same request unstreamed gives the same text.
  body.erase("stream");
  body.erase("stream_options");
  auto plain = post("/v1/chat/completions", body);
  ASSERT_EQ(plain.status, 200) << plain.body;
  EXPECT_EQ(plain.j()["choices"][0]["message"]["content"], text[0]);
  EXPECT_EQ(plain.j()["choices"][1]["logprobs"]["content"].size(), 5u);
}

TEST(ServeOpenAI, TokenizerRoutesAndTheAccessLog) {
  auto ids = tokenize("Hello world");
  auto r = post("/detokenize", {{"tokens", ids}});
  EXPECT_EQ(r.j().value("prompt", ""), "Hello world");
  EXPECT_EQ(http("GET", "/tokenizer_info").status, 200);
  EXPECT_EQ(post("/tokenize", {{"prompt", 5}}).status, 400);
  EXPECT_EQ(http("GET", "/v1/completions").status, 405);
  auto done = post("/v1/completions", {{"prompt", "logged"}, {"max_tokens", 3}, {"ignore_eos", true}});
  ASSERT_EQ(done.status, 200);
  const int prompt_tokens = done.j()["usage"]["prompt_tokens"];
  // The line is written when the request's last reference goes, just after the answer: poll a little.
  std::string log;
  const std::string want = "POST /v1/completions 200 prompt_tokens=" + std::to_string(prompt_tokens) + " completion_tokens=3 duration_ms=";
  for (int i = 0; i < 50 && log.find(want) == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    log = server().log();
  }
  EXPECT_NE(log.find(want), std::string::npos) << log;
  EXPECT_NE(log.find("access: GET /v1/completions 405"), std::string::npos) << log;
}

}  // namespace
}  // namespace hb
