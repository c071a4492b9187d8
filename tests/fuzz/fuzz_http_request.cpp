// The HTTP/1.1 request parsing of `hybench serve` (harness/http: Beast's parser behind HttpServer) fed
// arbitrary bytes over a real loopback connection, the way a hostile client would send them. The server
// must answer or close, never crash; the handler sees only well-formed requests.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "harness/http/http_server.h"

namespace {

hb::http::HttpServer& server() {
  static auto* s = [] {
    std::signal(SIGPIPE, SIG_IGN);
    return new hb::http::HttpServer("127.0.0.1", 0, [](const hb::http::HttpRequest& req,
                                                       std::shared_ptr<hb::http::ResponseWriter> w) {
      if (req.method.empty()) std::abort();
      w->send(200, "text/plain", std::to_string(req.body.size()));
    });
  }();
  return *s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int port = server().port();
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  // A connect can fail for the harness's own reasons (a full accept backlog, no free local port after
  // hundreds of thousands of connections): retry, then skip the input. A crash of the server is caught by
  // the sanitizers in this process, not by a refused connection.
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) std::abort();
    linger no_time_wait{1, 0};  // close with RST: no TIME_WAIT pile-up on the client side
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &no_time_wait, sizeof no_time_wait);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);
      fd = -1;
      ::usleep(10'000);
    }
  }
  if (fd < 0) return 0;
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  size_t sent = 0;
  while (sent < size) {
    ssize_t n = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may close early on a bad request
    sent += static_cast<size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  char buf[4096];
  while (::recv(fd, buf, sizeof buf, 0) > 0) {
  }
  ::close(fd);
  return 0;
}
