// The OpenAI backend against the scripted loopback server: every fault of issue #2 and the behaviour the
// sweep relies on (timestamps, queueing, replicas, cancellation). Timing assertions have wide margins:
// the tests run on a loaded 2-core machine.
#include "harness/openai/openai_backend.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <random>
#include <future>
#include <mutex>
#include <thread>

#include "harness/base/clock.h"
#include "tests/support/loopback_server.h"

namespace hb::openai {
namespace {

using namespace std::chrono_literals;
using hb::testing::LoggedRequest;
using hb::testing::LoopbackServer;
using hb::testing::Reply;

OpenAiOptions fast_options(const std::string& base) {
  OpenAiOptions o;
  o.base_urls = {base};
  o.model_name = "loopback-model";
  o.api_key_env = "HB_TEST_UNSET_KEY_VARIABLE";
  o.connect_timeout_s = 2;
  o.idle_timeout_s = 5;
  o.max_attempts = 3;
  o.backoff_base_s = 0.02;
  o.backoff_max_s = 0.1;
  return o;
}

GenerationRequest ask(const std::string& text = "What is 6*7?") {
  GenerationRequest r;
  r.id = "req";
  r.messages = {{"user", text}};
  r.sampling.max_tokens = 64;
  return r;
}

GenerationResult run_one(Backend& b, GenerationRequest r, std::chrono::seconds timeout = 15s) {
  auto p = std::make_shared<std::promise<GenerationResult>>();
  auto f = p->get_future();
  b.submit(std::move(r), [p](GenerationResult res) { p->set_value(std::move(res)); });
  if (f.wait_for(timeout) != std::future_status::ready) {
    ADD_FAILURE() << "no result within " << timeout.count() << " s";
    b.cancel_all();
    return f.get();
  }
  return f.get();
}

// Collects many results.
struct Collector {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<GenerationResult> results;
  ResultCallback callback() {
    return [this](GenerationResult r) {
      std::lock_guard<std::mutex> lock(mu);
      results.push_back(std::move(r));
      cv.notify_all();
    };
  }
  bool wait_for(size_t n, std::chrono::seconds timeout) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, timeout, [&] { return results.size() >= n; });
  }
};

// A port that nothing listens on now, chosen below the kernel's ephemeral range (32768-60999 here) so
// that servers of concurrently running tests, which bind port 0, can never be handed the same one.
int closed_port() {
  static std::mt19937 rng(static_cast<unsigned>(::getpid()) ^ static_cast<unsigned>(std::random_device{}()));
  for (;;) {
    int port = std::uniform_int_distribution<int>(20000, 32000)(rng);
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    if (free) return port;
  }
}

bool has(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

TEST(OpenAiBackend, StreamsAnAnswerWithOrderedTimestamps) {
  LoopbackServer server;
  auto b = make_openai_backend(fast_options(server.base_url()));
  auto r = run_one(*b, ask());
  ASSERT_TRUE(r.ok()) << r.error->kind << ": " << r.error->message;
  EXPECT_EQ(r.content, "The answer is 42.\n#### 42");
  EXPECT_EQ(r.finish_reason, "stop");
  EXPECT_EQ(r.usage.completion_tokens, 7);
  EXPECT_EQ(r.usage.prompt_tokens, 10);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(r.endpoint, server.base_url());
  ASSERT_EQ(r.chunks.size(), 7u);
  EXPECT_LE(r.submit_ns, r.send_ns);
  EXPECT_LE(r.send_ns, r.first_byte_ns);
  EXPECT_LE(r.first_byte_ns, r.first_token_ns);
  EXPECT_LE(r.first_token_ns, r.first_content_ns);
  EXPECT_EQ(r.first_token_ns, r.chunks.front().t_ns);
  for (size_t i = 1; i < r.chunks.size(); ++i) EXPECT_LE(r.chunks[i - 1].t_ns, r.chunks[i].t_ns);
  EXPECT_LE(r.chunks.back().t_ns, r.end_ns);
  auto log = server.requests();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].path, "/v1/chat/completions");
  EXPECT_EQ(log[0].json["model"], "loopback-model");
  EXPECT_EQ(log[0].json["stream"], true);
  EXPECT_EQ(log[0].json["stream_options"]["include_usage"], true);
  EXPECT_EQ(log[0].last_user_content(), "What is 6*7?");
  EXPECT_EQ(log[0].headers.count("authorization"), 0u) << "no key configured, no Authorization header";
}

TEST(OpenAiBackend, ConnectionRefusedIsRetriedThenReported) {
  auto o = fast_options("http://127.0.0.1:" + std::to_string(closed_port()) + "/v1");
  o.max_attempts = 2;
  auto b = make_openai_backend(o);
  auto r = run_one(*b, ask());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->kind, "connect");
  EXPECT_EQ(r.attempts, 2);
  EXPECT_TRUE(has(r.error->message, "127.0.0.1")) << r.error->message;
  EXPECT_TRUE(has(r.error->message, "is the server running")) << r.error->message;
}

TEST(OpenAiBackend, WrongUrlPathIs404WithAHintAndNoRetry) {
  LoopbackServer server;
  auto b = make_openai_backend(fast_options("http://127.0.0.1:" + std::to_string(server.port())));  // no /v1
  auto r = run_one(*b, ask());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->kind, "http_404");
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(server.request_count(), 1u);
  EXPECT_TRUE(has(r.error->message, "must end with /v1")) << r.error->message;
  EXPECT_TRUE(has(r.error->message, "no route for POST /chat/completions")) << "server's message: " << r.error->message;
}

TEST(OpenAiBackend, Http401IsNotRetriedAndNamesTheKeyVariable) {
  LoopbackServer server;
  server.script([](const LoggedRequest&, int) { return Reply::error(401, "Invalid API key"); });
  auto b = make_openai_backend(fast_options(server.base_url()));
  auto r = run_one(*b, ask());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->kind, "http_401");
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(server.request_count(), 1u);
  EXPECT_TRUE(has(r.error->message, "Invalid API key")) << r.error->message;
  EXPECT_TRUE(has(r.error->message, "HB_TEST_UNSET_KEY_VARIABLE")) << r.error->message;
}

TEST(OpenAiBackend, RateLimitStormHonoursRetryAfterAndIsBounded) {
  LoopbackServer server;
  server.script([](const LoggedRequest&, int) { return Reply::error(429, "slow down", "0.3"); });
  auto o = fast_options(server.base_url());
  o.max_attempts = 3;
  auto b = make_openai_backend(o);
  auto r = run_one(*b, ask());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->kind, "http_429");
  EXPECT_EQ(r.attempts, 3);
  EXPECT_TRUE(has(r.error->message, "after 3 attempts")) << r.error->message;
  auto log = server.requests();
  ASSERT_EQ(log.size(), 3u) << "bounded by max_attempts";
  for (size_t i = 1; i < log.size(); ++i)
    EXPECT_GE(log[i].arrival_ns - log[i - 1].arrival_ns, 280'000'000) << "Retry-After 0.3 s honoured (gap " << i << ")";
}

TEST(OpenAiBackend, RateLimitWithIntegerRetryAfterThenSuccess) {
  LoopbackServer server;
  server.script([](const LoggedRequest& req, int i) {
    return i == 0 ? Reply::error(429, "slow down", "1") : LoopbackServer::default_reply(req);
  });
  auto b = make_openai_backend(fast_options(server.base_url()));
  auto r = run_one(*b, ask());
  ASSERT_TRUE(r.ok()) << r.error->message;
  EXPECT_EQ(r.attempts, 2);
  auto log = server.requests();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_GE(log[1].arrival_ns - log[0].arrival_ns, 950'000'000);
}

TEST(OpenAiBackend, ServerErrorsThenSuccess) {
  LoopbackServer server;
  server.script([](const LoggedRequest& req, int i) {
    if (i == 0) return Reply::error(500, "internal");
    if (i == 1) return Reply::error(503, "overloaded");
    return LoopbackServer::default_reply(req);
  });
  auto b = make_openai_backend(fast_options(server.base_url()));
  auto r = run_one(*b, ask());
  ASSERT_TRUE(r.ok()) << r.error->message;
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(r.content, "The answer is 42.\n#### 42");
  EXPECT_GE(r.send_ns, r.submit_ns);
}

TEST(OpenAiBackend, PersistentServerErrorsAreBounded) {
  LoopbackServer server;
  server.script([](const LoggedRequest&, int) { return Reply::error(500, "always broken"); });
  auto b = make_openai_backend(fast_options(server.base_url()));
  auto r = run_one(*b, ask());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->kind, "http_500");
  EXPECT_EQ(server.request_count(), 3u);
  EXPECT_TRUE(has(r.error->message, "always broken")) << r.error->message;
}

TEST(OpenAiBackend, StreamCutEveryTimeIsRetriedThenTruncatedWithTheLastPartialText) {
  LoopbackServer server;
  server.script([](const LoggedRequest&, int) {
    Reply r = Reply::chat({"one", " two", " three", " four"});
    r.cut_after = 3;  // role chunk + two content chunks, then the connection drops
    return r;
  });
  auto b = make_openai_backend(fast_options(server.base_url()));
  auto r = run_one(*b, ask());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->kind, "truncated");
  EXPECT_EQ(r.content, "one two") << "only the last attempt's text, not three copies";
  EXPECT_EQ(r.chunks.size(), 2u);
  EXPECT_EQ(r.attempts, 3) << "a dropped stream is retried from the start";
  EXPECT_EQ(server.request_count(), 3u);
  ASSERT_EQ(r.attempt_log.size(), 3u);
  for (const auto& a : r.attempt_log) {
    EXPECT_EQ(a.kind, "truncated");
    EXPECT_EQ(a.http_status, 200);
    EXPECT_GT(a.bytes_received, 100);
    EXPECT_TRUE(a.request_sent);
    EXPECT_LE(a.start_ns, a.end_ns);
  }
}

TEST(OpenAiBackend, StreamDroppedOnceIsRetriedAndOnlyTheFinalAttemptIsKept) {
  LoopbackServer server;
  server.script([](const LoggedRequest&, int i) {
    Reply r = i == 0 ? Reply::chat({"wrong", " partial", " answer"}) : Reply::chat({"The", " answer", " is", " 7"});
    if (i == 0) r.cut_after = 3;
    return r;
  });
  auto b = make_openai_backend(fast_options(server.base_url()));
  auto r = run_one(*b, ask());
  ASSERT_TRUE(r.ok()) << r.error->kind << ": " << r.error->message;
  EXPECT_EQ(r.content, "The answer is 7");
  EXPECT_EQ(r.chunks.size(), 4u);
  EXPECT_EQ(r.usage.completion_tokens, 4);
  EXPECT_EQ(r.attempts, 2);
  ASSERT_EQ(r.attempt_log.size(), 2u);
  EXPECT_EQ(r.attempt_log[0].kind, "truncated");
  EXPECT_EQ(r.attempt_log[1].kind, "ok");
  EXPECT_LE(r.attempt_log[0].end_ns, r.attempt_log[1].start_ns);
  EXPECT_GE(r.first_token_ns, r.attempt_log[1].start_ns) << "timings are the final attempt's";
  EXPECT_EQ(server.request_count(), 2u);
}

TEST(OpenAiBackend, ErrorEventThenSuccessIsRetried) {
  LoopbackServer server;
  server.script([](const LoggedRequest& req, int i) {
    if (i > 0) return LoopbackServer::default_reply(req);
    Reply r = Reply::chat({"a"});
    r.events.insert(r.events.begin() + 2, R"({"error":{"message":"out of KV cache","code":500}})");
    return r;
  });
  auto b = make_openai_backend(fast_options(server.base_url()));
  auto r = run_one(*b, ask());
  ASSERT_TRUE(r.ok()) << r.error->message;
  EXPECT_EQ(r.content, "The answer is 42.\n#### 42");
  ASSERT_EQ(r.attempt_log.size(), 2u);
  EXPECT_EQ(r.attempt_log[0].kind, "server_error");
  EXPECT_TRUE(has(r.attempt_log[0].message, "out of KV cache"));
}

TEST(OpenAiBackend, UsageWithOutOfRangeTokenCountsIsAProtocolErrorNotUb) {
  for (std::string bad : {"1e30", "-5", "12.5", "1e300", "18446744073709551615", "-0.5", "1000000001"}) {
    LoopbackServer server;
    server.script([bad](const LoggedRequest&, int) {
      Reply r = Reply::chat({"x"}, {}, "stop", false);
      r.events.push_back(R"({"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":)" + bad + "}}");
      return r;
    });
    auto o = fast_options(server.base_url());
    o.max_attempts = 1;
    auto b = make_openai_backend(o);
    auto r = run_one(*b, ask());
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error->kind, "protocol") << bad;
    EXPECT_TRUE(has(r.error->message, "completion_tokens")) << r.error->message;
  }
}

TEST(OpenAiBackend, InvalidJsonInsideAnEventIsAProtocolErrorNamingIt) {
  LoopbackServer server;
  server.script([](const LoggedRequest&, int) {
    Reply r = Reply::chat({"fine"});
    r.events.insert(r.events.begin() + 2, "{\"choices\": [oops not json");
    return r;
  });
  auto b = make_openai_backend(fast_options(server.base_url()));
  auto r = run_one(*b, ask());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->kind, "protocol");
  EXPECT_TRUE(has(r.error->message, "[oops not json")) << r.error->message;
  EXPECT_EQ(r.content, "fine");
  EXPECT_EQ(r.attempts, 3) << "an undecodable event is retried like any transient fault";
}

TEST(OpenAiBackend, MissingDoneAfterAFinishReasonIsFine) {
  LoopbackServer server;
  server.script([](const LoggedRequest&, int) {
    Reply r = Reply::chat({"a", "b"});
    r.send_done = false;
    return r;
  });
  auto b = make_openai_backend(fast_options(server.base_url()));
  auto r = run_one(*b, ask());
  ASSERT_TRUE(r.ok()) << r.error->message;
  EXPECT_EQ(r.content, "ab");
  EXPECT_EQ(r.finish_reason, "stop");
}

TEST(OpenAiBackend, CleanEndWithoutFinishReasonOrDoneIsTruncated) {
  LoopbackServer server;
  server.script([](const LoggedRequest&, int) {
    Reply r;
    r.events = {hb::testing::chat_chunk({{"content", "half"}})};
    r.send_done = false;
    return r;
  });
  auto b = make_openai_backend(fast_options(server.base_url()));
  auto r = run_one(*b, ask());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->kind, "truncated");
  EXPECT_EQ(r.content, "half");
}

TEST(OpenAiBackend, EmptyCompletionIsOk) {
  LoopbackServer server;
  server.script([](const LoggedRequest&, int) { return Reply::chat({}); });
  auto b = make_openai_backend(fast_options(server.base_url()));
  auto r = run_one(*b, ask());
  ASSERT_TRUE(r.ok()) << r.error->message;
  EXPECT_EQ(r.content, "");
  EXPECT_EQ(r.finish_reason, "stop");
  EXPECT_TRUE(r.chunks.empty());
  EXPECT_EQ(r.first_token_ns, 0);
  EXPECT_EQ(r.usage.completion_tokens, 0);
}

TEST(OpenAiBackend, IdleTimeoutAbortsAStalledStream) {
  LoopbackServer server;
  server.script([](const LoggedRequest&, int) {
    Reply r = Reply::chat({"x", "y", "z"});
    r.stall_after = 2;  // role + "x", then silence with the connection open
    return r;
  });
  auto o = fast_options(server.base_url());
  o.idle_timeout_s = 0.4;
  o.max_attempts = 2;
  auto b = make_openai_backend(o);
  int64_t t0 = monotonic_ns();
  auto r = run_one(*b, ask());
  double waited_s = (monotonic_ns() - t0) / 1e9;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->kind, "timeout");
  EXPECT_EQ(r.content, "x");
  EXPECT_GE(waited_s, 0.75) << "two stalls of 0.4 s";
  EXPECT_LT(waited_s, 8.0);
  EXPECT_TRUE(has(r.error->message, "idle timeout")) << r.error->message;
  EXPECT_EQ(server.request_count(), 2u) << "a stalled stream is retried within max_attempts";
}

TEST(OpenAiBackend, IdleTimeoutBeforeTheFirstByte) {
  LoopbackServer server;
  server.script([](const LoggedRequest& req, int) {
    Reply r = LoopbackServer::default_reply(req);
    r.first_byte_delay = 3000ms;
    return r;
  });
  auto o = fast_options(server.base_url());
  o.idle_timeout_s = 0.3;
  o.max_attempts = 1;
  auto b = make_openai_backend(o);
  auto r = run_one(*b, ask());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->kind, "timeout");
  EXPECT_TRUE(has(r.error->message, "no response")) << r.error->message;
  EXPECT_EQ(r.first_byte_ns, 0);
}

TEST(OpenAiBackend, ReasoningContentIsKeptApart) {
  LoopbackServer server;
  server.script([](const LoggedRequest&, int) {
    Reply r = Reply::chat({"The answer", " is 4"}, {"Two plus", " two"});
    r.event_delay = 15ms;
    return r;
  });
  auto b = make_openai_backend(fast_options(server.base_url()));
  auto r = run_one(*b, ask());
  ASSERT_TRUE(r.ok()) << r.error->message;
  EXPECT_EQ(r.reasoning, "Two plus two");
  EXPECT_EQ(r.content, "The answer is 4");
  ASSERT_EQ(r.chunks.size(), 4u);
  EXPECT_TRUE(r.chunks[0].reasoning);
  EXPECT_TRUE(r.chunks[1].reasoning);
  EXPECT_FALSE(r.chunks[2].reasoning);
  EXPECT_LT(r.first_token_ns, r.first_content_ns) << "TTFT counts reasoning; first content comes later";
  EXPECT_EQ(r.first_content_ns, r.chunks[2].t_ns);
  // The role chunk came first (15 ms before the first reasoning chunk): it must not count as a token.
  EXPECT_GT(r.first_token_ns - r.first_byte_ns, 5'000'000);
}

TEST(OpenAiBackend, UsageChunkParsedAndAbsentUsageIsUnknown) {
  LoopbackServer server;
  server.script([](const LoggedRequest&, int i) {
    return Reply::chat({"a", "b", "c"}, {}, "length", /*usage=*/i == 0, /*prompt_tokens=*/123);
  });
  auto b = make_openai_backend(fast_options(server.base_url()));
  auto with = run_one(*b, ask());
  ASSERT_TRUE(with.ok());
  EXPECT_EQ(with.usage.prompt_tokens, 123);
  EXPECT_EQ(with.usage.completion_tokens, 3);
  EXPECT_EQ(with.finish_reason, "length");
  auto without = run_one(*b, ask());
  ASSERT_TRUE(without.ok());
  EXPECT_EQ(without.usage.completion_tokens, -1);
  EXPECT_EQ(without.usage.prompt_tokens, -1);
  EXPECT_EQ(without.chunks.size(), 3u) << "1 token per non-empty delta chunk";
}

TEST(OpenAiBackend, ErrorEventMidStream) {
  LoopbackServer server;
  server.script([](const LoggedRequest&, int) {
    Reply r = Reply::chat({"a"});
    r.events.insert(r.events.begin() + 2, R"({"error":{"message":"out of KV cache","code":500}})");
    return r;
  });
  auto b = make_openai_backend(fast_options(server.base_url()));
  auto r = run_one(*b, ask());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->kind, "server_error");
  EXPECT_TRUE(has(r.error->message, "out of KV cache"));
  EXPECT_EQ(r.content, "a");
}

TEST(OpenAiBackend, NonStreamingFallback) {
  LoopbackServer server;
  auto o = fast_options(server.base_url());
  o.stream = false;
  auto b = make_openai_backend(o);
  auto r = run_one(*b, ask());
  ASSERT_TRUE(r.ok()) << r.error->message;
  EXPECT_EQ(r.content, "The answer is 42.\n#### 42");
  EXPECT_EQ(r.usage.completion_tokens, 7);
  EXPECT_EQ(server.requests().at(0).json["stream"], false);
  EXPECT_FALSE(server.requests().at(0).json.contains("stream_options"));
}

TEST(OpenAiBackend, CompletionsEndpointWhenPromptIsSet) {
  LoopbackServer server;
  server.script([](const LoggedRequest&, int) { return Reply::completion({"Once", " upon"}, "length"); });
  auto b = make_openai_backend(fast_options(server.base_url()));
  GenerationRequest req;
  req.prompt = "Tell me";
  auto r = run_one(*b, req);
  ASSERT_TRUE(r.ok()) << r.error->message;
  EXPECT_EQ(r.content, "Once upon");
  EXPECT_EQ(server.requests().at(0).path, "/v1/completions");
  EXPECT_EQ(server.requests().at(0).json["prompt"], "Tell me");
}

TEST(OpenAiBackend, TwoHundredConcurrentRequestsAllInFlightAtOnce) {
  LoopbackServer server;
  server.script([](const LoggedRequest& req, int) {
    Reply r = LoopbackServer::default_reply(req);
    r.first_byte_delay = 600ms;  // nobody finishes before everybody arrived
    r.event_delay = 2ms;
    return r;
  });
  auto o = fast_options(server.base_url());
  o.max_in_flight = 200;
  auto b = make_openai_backend(o);
  Collector c;
  for (int i = 0; i < 200; ++i) b->submit(ask("q" + std::to_string(i)), c.callback());
  ASSERT_TRUE(c.wait_for(200, 30s));
  for (const auto& r : c.results) {
    ASSERT_TRUE(r.ok()) << r.error->kind << ": " << r.error->message;
    EXPECT_EQ(r.content, "The answer is 42.\n#### 42");
  }
  auto log = server.requests();
  ASSERT_EQ(log.size(), 200u);
  int64_t first = log.front().arrival_ns, last = log.back().arrival_ns;
  EXPECT_LT(last - first, 550'000'000) << "all 200 arrived before the first answer started";
}

TEST(OpenAiBackend, MaxInFlightQueuesTheRestAndTheQueueTimeShows) {
  LoopbackServer server;
  server.script([](const LoggedRequest& req, int) {
    Reply r = LoopbackServer::default_reply(req);
    r.first_byte_delay = 150ms;
    return r;
  });
  auto o = fast_options(server.base_url());
  o.max_in_flight = 2;
  auto b = make_openai_backend(o);
  Collector c;
  for (int i = 0; i < 6; ++i) b->submit(ask(), c.callback());
  ASSERT_TRUE(c.wait_for(6, 20s));
  auto log = server.requests();
  ASSERT_EQ(log.size(), 6u);
  // Requests arrive in waves of two, ~150 ms apart.
  EXPECT_GE(log[2].arrival_ns - log[0].arrival_ns, 120'000'000);
  EXPECT_GE(log[4].arrival_ns - log[2].arrival_ns, 120'000'000);
  int64_t max_queue = 0;
  for (const auto& r : c.results) max_queue = std::max(max_queue, r.send_ns - r.submit_ns);
  EXPECT_GE(max_queue, 250'000'000) << "the last wave waited in the client queue";
}

TEST(OpenAiBackend, ApiKeyIsSentButNeverAppearsInDescribeOrErrors) {
  const char* key = "sk-test-SECRET-0123456789";
  ::setenv("HB_TEST_API_KEY_FOR_LEAKS", key, 1);
  LoopbackServer server;
  server.script([&](const LoggedRequest&, int) { return Reply::error(401, std::string("key ") + key + " is invalid"); });
  auto o = fast_options(server.base_url());
  o.api_key_env = "HB_TEST_API_KEY_FOR_LEAKS";
  auto b = make_openai_backend(o);
  auto r = run_one(*b, ask());
  ::unsetenv("HB_TEST_API_KEY_FOR_LEAKS");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(server.requests().at(0).headers.at("authorization"), std::string("Bearer ") + key);
  EXPECT_FALSE(has(r.error->message, key)) << r.error->message;
  EXPECT_TRUE(has(r.error->message, "***")) << "the echoed key is scrubbed: " << r.error->message;
  auto info = b->describe();
  std::string all = info.spec + info.model_name + info.details.dump();
  EXPECT_FALSE(has(all, key)) << all;
  EXPECT_EQ(info.details["api_key_set"], true);
}

TEST(OpenAiBackend, CancelAllCompletesEveryPendingRequest) {
  LoopbackServer server;
  server.script([](const LoggedRequest&, int) {
    Reply r = Reply::chat({"x", "y"});
    r.stall_after = 1;
    return r;
  });
  auto o = fast_options(server.base_url());
  o.max_in_flight = 3;  // 3 on the wire, 2 queued
  auto b = make_openai_backend(o);
  Collector c;
  for (int i = 0; i < 5; ++i) b->submit(ask(), c.callback());
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (server.request_count() < 3 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  b->cancel_all();
  ASSERT_TRUE(c.wait_for(5, 5s));
  for (const auto& r : c.results) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error->kind, "cancelled");
  }
  // The backend still works after a cancel.
  server.script([](const LoggedRequest& req, int) { return LoopbackServer::default_reply(req); });
  EXPECT_TRUE(run_one(*b, ask()).ok());
}

TEST(OpenAiBackend, ReplicasShareTheLoadByLeastOutstanding) {
  LoopbackServer a, c;
  auto slow = [](const LoggedRequest& req, int) {
    Reply r = LoopbackServer::default_reply(req);
    r.first_byte_delay = 100ms;
    return r;
  };
  auto fast = [](const LoggedRequest& req, int) { return LoopbackServer::default_reply(req); };
  a.script(slow);
  c.script(fast);
  auto o = fast_options(a.base_url());
  o.base_urls.push_back(c.base_url());
  o.max_in_flight = 8;
  auto b = make_openai_backend(o);
  Collector col;
  for (int i = 0; i < 40; ++i) b->submit(ask(), col.callback());
  ASSERT_TRUE(col.wait_for(40, 30s));
  size_t on_a = 0, on_c = 0;
  for (const auto& r : col.results) {
    ASSERT_TRUE(r.ok());
    on_a += r.endpoint == a.base_url();
    on_c += r.endpoint == c.base_url();
  }
  EXPECT_EQ(on_a + on_c, 40u);
  EXPECT_GT(on_a, 0u);
  EXPECT_GT(on_c, on_a) << "the faster replica has fewer outstanding requests, so it gets more";
  auto eps = b->describe().details["endpoints"];
  ASSERT_EQ(eps.size(), 2u);
  EXPECT_EQ(eps[0]["requests"].get<int64_t>() + eps[1]["requests"].get<int64_t>(), 40);
}

TEST(OpenAiBackend, ResendsTheBodyWhenAReusedConnectionTurnsOutDead) {
  LoopbackServer server;
  server.script([](const LoggedRequest& req, int i) {
    Reply r = LoopbackServer::default_reply(req);
    r.close_without_response = i == 1;  // the kept-alive connection dies under the second request
    return r;
  });
  auto o = fast_options(server.base_url());
  o.max_attempts = 1;  // libcurl's own resend on a fresh connection, not ours
  auto b = make_openai_backend(o);
  ASSERT_TRUE(run_one(*b, ask("first")).ok());
  auto r = run_one(*b, ask("second"));
  ASSERT_TRUE(r.ok()) << r.error->kind << ": " << r.error->message;
  auto log = server.requests();
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[2].last_user_content(), "second") << "the whole body was sent again";
  EXPECT_GE(r.send_ns, log[1].arrival_ns) << "send_ns is the resend, not the first try";
  // The server received two requests for the second call: both are attempts.
  EXPECT_EQ(r.attempts, 2) << "libcurl's silent re-send is counted";
  ASSERT_EQ(r.attempt_log.size(), 2u);
  EXPECT_EQ(r.attempt_log[0].kind, "resent");
  EXPECT_TRUE(r.attempt_log[0].request_sent);
  EXPECT_EQ(r.attempt_log[1].kind, "ok");
}

TEST(OpenAiBackend, LongPromptOfSeveralMegabytes) {
  LoopbackServer server;
  auto b = make_openai_backend(fast_options(server.base_url()));
  std::string prompt(3 << 20, 'a');
  auto r = run_one(*b, ask(prompt));
  ASSERT_TRUE(r.ok()) << r.error->message;
  EXPECT_EQ(server.requests().at(0).last_user_content().size(), prompt.size());
}

TEST(OpenAiBackend, RepeatedDoneAndDataAfterDoneAreIgnored) {
  LoopbackServer server;
  server.script([](const LoggedRequest&, int) {
    Reply r = Reply::chat({"fine"});
    r.events.push_back("[DONE]");
    r.events.push_back(hb::testing::chat_chunk({{"content", " LATE"}}));
    r.events.push_back("{not json either}");
    return r;  // and the real [DONE] once more at the end
  });
  auto b = make_openai_backend(fast_options(server.base_url()));
  auto r = run_one(*b, ask());
  ASSERT_TRUE(r.ok()) << r.error->message;
  EXPECT_EQ(r.content, "fine");
  EXPECT_EQ(r.attempts, 1);
}

TEST(OpenAiBackend, LastEventWithoutTrailingNewlineAtEofIsParsed) {
  LoopbackServer server;
  server.script([](const LoggedRequest&, int) {
    Reply r;
    r.events = {hb::testing::chat_chunk({{"content", "end"}})};
    r.send_done = false;
    r.raw_after = "data: " + hb::testing::chat_chunk(nlohmann::json::object(), "stop");  // no "\n\n"
    return r;
  });
  auto b = make_openai_backend(fast_options(server.base_url()));
  auto r = run_one(*b, ask());
  ASSERT_TRUE(r.ok()) << r.error->message;
  EXPECT_EQ(r.content, "end");
  EXPECT_EQ(r.finish_reason, "stop");
}

TEST(OpenAiBackend, AHundredMegabyteSingleEventIsRefusedWithBoundedMemory) {
  LoopbackServer server;
  server.script([](const LoggedRequest&, int) {
    Reply r = Reply::chat({"x"});
    r.events.insert(r.events.begin() + 1, "{\"choices\":[{\"delta\":{\"content\":\"" + std::string(100u << 20, 'a') + "\"}}]}");
    return r;
  });
  auto o = fast_options(server.base_url());
  o.max_attempts = 1;
  auto b = make_openai_backend(o);
  auto r = run_one(*b, ask(), 60s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->kind, "protocol");
  EXPECT_TRUE(has(r.error->message, "larger than 16 MiB")) << r.error->message;
  ASSERT_EQ(r.attempt_log.size(), 1u);
  EXPECT_LT(r.attempt_log[0].bytes_received, 40 << 20) << "the client stopped reading soon after the limit";
}

TEST(OpenAiBackend, AttemptsEqualTheServersRequestLogUnderRandomFaults) {
  LoopbackServer server;
  server.script([](const LoggedRequest& req, int i) {
    Reply r = LoopbackServer::default_reply(req);
    switch (i % 5) {
      case 1: r.cut_after = 2; break;
      case 2: r.close_without_response = true; break;
      case 3: return Reply::error(429, "slow down", "0");
      default: break;
    }
    return r;
  });
  auto o = fast_options(server.base_url());
  o.max_attempts = 6;
  o.max_in_flight = 4;
  auto b = make_openai_backend(o);
  Collector c;
  const int n = 30;
  for (int i = 0; i < n; ++i) b->submit(ask("q" + std::to_string(i)), c.callback());
  ASSERT_TRUE(c.wait_for(n, 60s));
  size_t attempts = 0, logged = 0;
  for (const auto& r : c.results) {
    if (!r.ok()) {
      // libcurl's own re-send on a dead kept-alive connection may add one beyond max_attempts.
      EXPECT_GE(r.attempts, o.max_attempts) << "a failure only after every attempt: " << r.error->message;
    }
    attempts += static_cast<size_t>(r.attempts);
    EXPECT_EQ(r.attempt_log.size(), static_cast<size_t>(r.attempts));
    for (const auto& a : r.attempt_log) logged += a.request_sent ? 1 : 0;
  }
  EXPECT_EQ(attempts, server.request_count());
  EXPECT_EQ(logged, server.request_count());
}

TEST(OpenAiBackend, CredentialsInTheUrlNeverShowInDescribeResultsOrErrors) {
  LoopbackServer server;
  server.script([](const LoggedRequest&, int) { return Reply::error(500, "broken"); });
  auto o = fast_options("http://alice:s3cretpw@127.0.0.1:" + std::to_string(server.port()) + "/v1");
  o.max_attempts = 2;
  auto b = make_openai_backend(o);
  auto r = run_one(*b, ask());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(server.requests()[0].headers.count("authorization"), 1u) << "the credentials are still used";
  std::string all = b->describe().spec + b->describe().details.dump() + r.endpoint + r.error->message;
  for (const auto& a : r.attempt_log) all += a.endpoint + a.message;
  EXPECT_FALSE(has(all, "s3cretpw")) << all;
  EXPECT_TRUE(has(r.endpoint, "alice:***@127.0.0.1")) << r.endpoint;
}

TEST(OpenAiBackend, EmptyOrOutOfRangePortsAreRefused) {
  for (std::string url : {"http://127.0.0.1:/v1", "http://127.0.0.1:99999/v1", "http://127.0.0.1:0/v1",
                          "http://127.0.0.1:8a/v1", "http:///v1", "http://[::1/v1"}) {
    auto o = fast_options(url);
    try {
      make_openai_backend(o);
      ADD_FAILURE() << url << " was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::usage) << url;
      EXPECT_TRUE(has(e.message(), url.substr(0, 10))) << e.message();
    }
  }
  EXPECT_NO_THROW(check_base_url("http://[::1]:8000/v1"));
  EXPECT_NO_THROW(check_base_url("https://api.example.com/v1"));
  EXPECT_NO_THROW(check_base_url("http://u:p@h:65535/v1"));
}

TEST(OpenAiBackend, BadOptionsAreUsageErrors) {
  OpenAiOptions o;
  EXPECT_THROW(make_openai_backend(o), hb::Error);
  o.base_urls = {"127.0.0.1:8000/v1"};
  o.model_name = "m";
  try {
    make_openai_backend(o);
    FAIL();
  } catch (const hb::Error& e) {
    EXPECT_TRUE(has(e.message(), "http://")) << e.message();
  }
  o.base_urls = {"http://127.0.0.1:1/v1"};
  o.max_in_flight = 0;
  EXPECT_THROW(make_openai_backend(o), hb::Error);
}

}  // namespace
}  // namespace hb::openai
