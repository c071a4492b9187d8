// HttpServer over real loopback sockets: whole responses, keep-alive, pipelining, chunked streams,
// abort, client disconnects, 400 on garbage, 2,000 concurrent streams on one io thread, stop().
#include "harness/http/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "harness/base/clock.h"

namespace hb::http {
namespace {

using namespace std::chrono_literals;

int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void send_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    ASSERT_GT(n, 0);
    off += static_cast<size_t>(n);
  }
}

// Reads until `pred(buffer)` holds, the peer closes, or the timeout passes.
template <typename Pred>
std::string read_until(int fd, Pred pred, std::chrono::milliseconds timeout, bool* closed = nullptr) {
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  if (closed) *closed = false;
  while (!pred(out)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[8192];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      if (closed) *closed = true;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

bool contains(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

TEST(HttpServer, AnswersAWholeResponseAndKeepsTheConnectionAlive) {
  HttpServer server("127.0.0.1", 0, [](const HttpRequest& req, std::shared_ptr<ResponseWriter> w) {
    w->send(200, "text/plain", req.method + " " + req.target + " body=" + req.body + " x=" + req.header("x-test"),
            {{"X-Reply", "yes"}});
  });
  ASSERT_GT(server.port(), 0);
  int fd = connect_to(server.port());
  ASSERT_GE(fd, 0);
  send_all(fd, "POST /a?q=1 HTTP/1.1\r\nHost: x\r\nX-Test: Hello\r\nContent-Length: 3\r\n\r\nabc");
  std::string first = read_until(fd, [](const std::string& s) { return contains(s, "x=Hello"); }, 3000ms);
  EXPECT_TRUE(contains(first, "HTTP/1.1 200 OK\r\n")) << first;
  EXPECT_TRUE(contains(first, "X-Reply: yes\r\n")) << first;
  EXPECT_TRUE(contains(first, "POST /a?q=1 body=abc x=Hello")) << first;
  // Same connection, second request.
  send_all(fd, "GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string second = read_until(fd, [](const std::string& s) { return contains(s, "GET /b"); }, 3000ms);
  EXPECT_TRUE(contains(second, "GET /b body= x=")) << second;
  EXPECT_EQ(server.requests_handled(), 2u);
  ::close(fd);
}

TEST(HttpServer, PipelinedRequestsAreAnsweredInOrder) {
  HttpServer server("127.0.0.1", 0, [](const HttpRequest& req, std::shared_ptr<ResponseWriter> w) {
    w->send(200, "text/plain", "<" + req.target + ">");
  });
  int fd = connect_to(server.port());
  send_all(fd, "GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\n\r\nGET /three HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  bool closed = false;
  std::string all = read_until(fd, [](const std::string&) { return false; }, 3000ms, &closed);
  EXPECT_TRUE(closed) << "Connection: close must close after the third response";
  size_t a = all.find("</one>"), b = all.find("</two>"), c = all.find("</three>");
  ASSERT_NE(a, std::string::npos) << all;
  ASSERT_NE(b, std::string::npos) << all;
  ASSERT_NE(c, std::string::npos) << all;
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  ::close(fd);
}

TEST(HttpServer, MalformedRequestGets400AndClose) {
  HttpServer server("127.0.0.1", 0, [](const HttpRequest&, std::shared_ptr<ResponseWriter> w) {
    w->send(200, "text/plain", "should not be called");
  });
  int fd = connect_to(server.port());
  send_all(fd, "THIS IS NOT HTTP\r\n\r\n");
  bool closed = false;
  std::string reply = read_until(fd, [](const std::string&) { return false; }, 3000ms, &closed);
  EXPECT_TRUE(contains(reply, "HTTP/1.1 400 Bad Request")) << reply;
  EXPECT_TRUE(closed);
  EXPECT_EQ(server.requests_handled(), 0u);
  ::close(fd);
}

TEST(HttpServer, StreamsChunkedFromTimersAndEnds) {
  HttpServer* srv = nullptr;
  HttpServer server("127.0.0.1", 0, [&srv](const HttpRequest&, std::shared_ptr<ResponseWriter> w) {
    w->start_stream(200, "text/event-stream");
    w->write("data: 1\n\n");
    srv->post_after(20ms, [w] { w->write("data: 2\n\n"); });
    srv->post_after(40ms, [w] {
      w->write("data: 3\n\n");
      w->end();
    });
  });
  srv = &server;
  int fd = connect_to(server.port());
  send_all(fd, "GET /s HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string reply = read_until(fd, [](const std::string& s) { return contains(s, "\r\n0\r\n\r\n"); }, 3000ms);
  EXPECT_TRUE(contains(reply, "Transfer-Encoding: chunked\r\n")) << reply;
  EXPECT_TRUE(contains(reply, "9\r\ndata: 1\n\n\r\n")) << reply;
  EXPECT_TRUE(contains(reply, "9\r\ndata: 3\n\n\r\n0\r\n\r\n")) << reply;
  ::close(fd);
}

TEST(HttpServer, AbortCutsTheStreamAfterWhatWasWritten) {
  HttpServer server("127.0.0.1", 0, [](const HttpRequest&, std::shared_ptr<ResponseWriter> w) {
    w->start_stream(200, "text/event-stream");
    w->write("partial");
    w->abort();
    w->write("never");
    EXPECT_TRUE(true);
  });
  int fd = connect_to(server.port());
  send_all(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  bool closed = false;
  std::string reply = read_until(fd, [](const std::string&) { return false; }, 3000ms, &closed);
  EXPECT_TRUE(closed);
  EXPECT_TRUE(contains(reply, "7\r\npartial\r\n")) << reply;
  EXPECT_FALSE(contains(reply, "never"));
  EXPECT_FALSE(contains(reply, "0\r\n\r\n"));
  ::close(fd);
}

TEST(HttpServer, NoticesAClientThatGoesAway) {
  std::mutex mu;
  std::shared_ptr<ResponseWriter> kept;
  HttpServer server("127.0.0.1", 0, [&](const HttpRequest&, std::shared_ptr<ResponseWriter> w) {
    w->start_stream(200, "text/plain");
    w->write("hello");
    std::lock_guard<std::mutex> lock(mu);
    kept = w;
  });
  int fd = connect_to(server.port());
  send_all(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  read_until(fd, [](const std::string& s) { return contains(s, "hello"); }, 3000ms);
  std::shared_ptr<ResponseWriter> w;
  {
    std::lock_guard<std::mutex> lock(mu);
    w = kept;
  }
  ASSERT_TRUE(w);
  EXPECT_FALSE(w->closed());
  ::close(fd);
  auto deadline = std::chrono::steady_clock::now() + 3s;
  while (!w->closed() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  EXPECT_TRUE(w->closed());
  w->write("after close is a no-op");
  deadline = std::chrono::steady_clock::now() + 3s;
  while (server.open_connections() != 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(server.open_connections(), 0u);
}

TEST(HttpServer, ExpectContinueGets100BeforeTheBody) {
  HttpServer server("127.0.0.1", 0, [](const HttpRequest& req, std::shared_ptr<ResponseWriter> w) {
    w->send(200, "text/plain", "got " + req.body);
  });
  int fd = connect_to(server.port());
  send_all(fd, "POST /x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
  std::string interim = read_until(fd, [](const std::string& s) { return contains(s, "\r\n\r\n"); }, 3000ms);
  EXPECT_TRUE(contains(interim, "HTTP/1.1 100 Continue")) << interim;
  send_all(fd, "hello");
  std::string reply = read_until(fd, [](const std::string& s) { return contains(s, "got hello"); }, 3000ms);
  EXPECT_TRUE(contains(reply, "HTTP/1.1 200 OK")) << reply;
  ::close(fd);
}

TEST(HttpServer, Http10StreamEndsWithTheConnection) {
  HttpServer server("127.0.0.1", 0, [](const HttpRequest&, std::shared_ptr<ResponseWriter> w) {
    w->start_stream(200, "text/plain");
    w->write("one ");
    w->write("two");
    w->end();
  });
  int fd = connect_to(server.port());
  send_all(fd, "GET / HTTP/1.0\r\n\r\n");
  bool closed = false;
  std::string reply = read_until(fd, [](const std::string&) { return false; }, 3000ms, &closed);
  EXPECT_TRUE(closed);
  EXPECT_TRUE(contains(reply, "HTTP/1.0 200 OK")) << reply;
  EXPECT_FALSE(contains(reply, "chunked")) << reply;
  EXPECT_TRUE(contains(reply, "\r\n\r\none two")) << reply;
  ::close(fd);
}

TEST(HttpServer, HeadGetsHeadersWithoutTheBody) {
  HttpServer server("127.0.0.1", 0, [](const HttpRequest&, std::shared_ptr<ResponseWriter> w) {
    w->send(200, "text/plain", "BODYTEXT");
  });
  int fd = connect_to(server.port());
  send_all(fd, "HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string reply = read_until(fd, [](const std::string& s) { return contains(s, "BODYTEXT"); }, 3000ms);
  EXPECT_TRUE(contains(reply, "Content-Length: 8")) << reply;
  EXPECT_EQ(reply.find("BODYTEXT"), reply.rfind("BODYTEXT")) << "only the GET carries the body: " << reply;
  ::close(fd);
}

TEST(HttpServer, HandlerExceptionBecomes500) {
  HttpServer server("127.0.0.1", 0, [](const HttpRequest&, std::shared_ptr<ResponseWriter>) {
    throw std::runtime_error("boom");
  });
  int fd = connect_to(server.port());
  send_all(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string reply = read_until(fd, [](const std::string& s) { return contains(s, "boom"); }, 3000ms);
  EXPECT_TRUE(contains(reply, "HTTP/1.1 500 Internal Server Error")) << reply;
  ::close(fd);
}

TEST(HttpServer, PostAfterRunsNoEarlierThanAsked) {
  HttpServer server("127.0.0.1", 0, [](const HttpRequest&, std::shared_ptr<ResponseWriter> w) { w->send(200, "", ""); });
  std::atomic<int64_t> fired{0};
  int64_t start = monotonic_ns();
  server.post_after(50ms, [&] { fired = monotonic_ns(); });
  auto deadline = std::chrono::steady_clock::now() + 3s;
  while (fired == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(2ms);
  ASSERT_NE(fired.load(), 0);
  EXPECT_GE(fired.load() - start, 50'000'000);
}

TEST(HttpServer, TwoThousandConcurrentStreamsOnOneIoThread) {
  constexpr int kClients = 2000;
  std::mutex mu;
  std::vector<std::shared_ptr<ResponseWriter>> held;
  HttpServer server("127.0.0.1", 0, [&](const HttpRequest&, std::shared_ptr<ResponseWriter> w) {
    w->start_stream(200, "text/event-stream");
    w->write("data: first\n\n");
    std::lock_guard<std::mutex> lock(mu);
    held.push_back(w);
  }, 1);
  std::vector<int> fds;
  for (int i = 0; i < kClients; ++i) {
    int fd = connect_to(server.port());
    ASSERT_GE(fd, 0) << "connect " << i;
    send_all(fd, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}");
    fds.push_back(fd);
  }
  // All streams are open at the same time before any of them ends.
  auto deadline = std::chrono::steady_clock::now() + 20s;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (held.size() == static_cast<size_t>(kClients)) break;
    }
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "not all requests arrived";
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(server.open_connections(), static_cast<size_t>(kClients));
  {
    std::lock_guard<std::mutex> lock(mu);
    for (auto& w : held) {
      w->write("data: second\n\n");
      w->end();
    }
  }
  std::vector<std::string> got(fds.size());
  std::vector<bool> done(fds.size(), false);
  size_t finished = 0;
  std::vector<pollfd> pfds;
  while (finished < fds.size() && std::chrono::steady_clock::now() < deadline) {
    pfds.clear();
    std::vector<size_t> idx;
    for (size_t i = 0; i < fds.size(); ++i)
      if (!done[i]) {
        pfds.push_back({fds[i], POLLIN, 0});
        idx.push_back(i);
      }
    if (::poll(pfds.data(), pfds.size(), 1000) <= 0) continue;
    for (size_t k = 0; k < pfds.size(); ++k) {
      if (!(pfds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      size_t i = idx[k];
      char buf[4096];
      ssize_t n = ::recv(fds[i], buf, sizeof buf, 0);
      if (n > 0) got[i].append(buf, static_cast<size_t>(n));
      if (n <= 0 || contains(got[i], "\r\n0\r\n\r\n")) {
        done[i] = true;
        ++finished;
      }
    }
  }
  size_t complete = 0;
  for (const auto& g : got) complete += contains(g, "data: first") && contains(g, "data: second") && contains(g, "\r\n0\r\n\r\n");
  EXPECT_EQ(complete, static_cast<size_t>(kClients));
  for (int fd : fds) ::close(fd);
}

TEST(HttpServer, StopClosesOpenConnectionsAndLateWritesAreNoOps) {
  std::shared_ptr<ResponseWriter> kept;
  std::mutex mu;
  auto server = std::make_unique<HttpServer>("127.0.0.1", 0, [&](const HttpRequest&, std::shared_ptr<ResponseWriter> w) {
    w->start_stream(200, "text/plain");
    std::lock_guard<std::mutex> lock(mu);
    kept = w;
  });
  int fd = connect_to(server->port());
  send_all(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  read_until(fd, [](const std::string& s) { return contains(s, "\r\n\r\n"); }, 3000ms);
  server->stop();
  bool closed = false;
  read_until(fd, [](const std::string&) { return false; }, 3000ms, &closed);
  EXPECT_TRUE(closed);
  server.reset();
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_TRUE(kept);
  kept->write("late");  // must not crash
  kept->end();
  EXPECT_TRUE(kept->closed());
  ::close(fd);
}

TEST(HttpServer, BindFailureIsAClearError) {
  HttpServer first("127.0.0.1", 0, [](const HttpRequest&, std::shared_ptr<ResponseWriter> w) { w->send(200, "", ""); });
  try {
    HttpServer second("127.0.0.1", first.port(), [](const HttpRequest&, std::shared_ptr<ResponseWriter>) {});
    // SO_REUSEADDR does not allow two listeners on one port on Linux.
    FAIL() << "a second listener on the same port must fail";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find(std::to_string(first.port())), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace hb::http
