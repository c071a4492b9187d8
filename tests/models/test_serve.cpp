// `hybench serve` end to end: the real binary on a tiny preset, hybench's own OpenAI client with many
// requests at once, a GSM8K eval through it, and a client that disconnects mid-stream.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <future>

#include <nlohmann/json.hpp>

#include "harness/backends/backend_factory.h"
#include "tests/models/serve_process.h"

namespace hb {
namespace {
using testing_serve::server;

TEST(Serve, ManyClientsAtOnceThroughTheOpenAIClient) {
  ASSERT_GT(server().port(), 0);
  BackendOptions o;
  o.model_name = "hybrid-tiny";
  auto b = make_backend("openai:" + server().url(), o);
  const int n = 12;
  std::vector<std::promise<GenerationResult>> ps(n);
  for (int i = 0; i < n; ++i) {
    GenerationRequest r;
    r.id = std::to_string(i);
    if (i % 3 == 0) {
      r.prompt = "count " + std::to_string(i);
    } else {
      r.messages = {{"user", "hello " + std::to_string(i)}};
    }
    r.sampling.max_tokens = 5 + i % 4;
    r.sampling.ignore_eos = true;
    r.stream = i % 2 == 0;
    b->submit(r, [&ps, i](GenerationResult g) { ps[i].set_value(std::move(g)); });
  }
  for (int i = 0; i < n; ++i) {
    auto g = ps[i].get_future().get();
    ASSERT_TRUE(g.ok()) << i << ": " << g.error->message;
    EXPECT_EQ(g.usage.completion_tokens, 5 + i % 4) << i;
    EXPECT_GT(g.usage.prompt_tokens, 0);
  }
}

// A raw socket: send a streaming request, read a little, hang up.
void disconnect_mid_stream(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  std::string body = R"({"prompt":"never ending","max_tokens":1000,"ignore_eos":true,"stream":true})";
  std::string req = "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n" + body;
  ASSERT_EQ(::send(fd, req.data(), req.size(), 0), ssize_t(req.size()));
  char buf[2048];
  size_t got = 0;
  while (got < 1500) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got += size_t(n);
  }
  EXPECT_GT(got, 200u);
  ::close(fd);
}

TEST(Serve, ClientDisconnectMidStreamDoesNotHurtOthers) {
  ASSERT_GT(server().port(), 0);
  disconnect_mid_stream(server().port());
  BackendOptions o;
  o.model_name = "hybrid-tiny";
  auto b = make_backend("openai:" + server().url(), o);
  GenerationRequest r;
  r.messages = {{"user", "still there?"}};
  r.sampling.max_tokens = 4;
  std::promise<GenerationResult> p;
  b->submit(r, [&p](GenerationResult g) { p.set_value(std::move(g)); });
  auto g = p.get_future().get();
  EXPECT_TRUE(g.ok()) << g.error->message;
}

TEST(Serve, Gsm8kEvalAgainstServe) {
  ASSERT_GT(server().port(), 0);
  std::string data = HB_TEST_DATASETS_DIR;
  if (!std::filesystem::exists(data + "/gsm8k")) GTEST_SKIP() << "no gsm8k data at " << data;
  std::string db = ::testing::TempDir() + "/serve_e2e.db";
  std::filesystem::remove(db);
  std::string cmd = std::string(HB_BINARY_DIR) + "/hybench --log-level error eval --model openai:" + server().url() +
                    " --model-name hybrid-tiny --suite gsm8k --limit 3 --max-tokens 12 --db " + db + " --data-dir " + data +
                    " > /dev/null";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

}  // namespace
}  // namespace hb
