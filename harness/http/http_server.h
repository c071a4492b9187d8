#pragma once
// A small asynchronous HTTP/1.1 server (Boost.Beast parser + Boost.Asio sockets) used by the loopback
// test server and by `hybench serve`. One io_context runs on `io_threads` threads; every connection is a
// state machine on its own strand, so thousands of concurrent (streaming) connections need no thread
// each. Beast is confined to http_server.cpp: including this header costs nothing.
//
// Contract:
//  - The handler is called once per request, on an io thread. It must not block: it either answers at
//    once through the ResponseWriter or keeps the writer and answers later from any thread (for example
//    from a post_after() timer).
//  - A connection is keep-alive (HTTP/1.1 default) unless the client asks for `Connection: close` or
//    speaks HTTP/1.0. The next request on a connection is read only after the previous response ended.
//  - While a response is in progress the server keeps reading the socket, so a client that goes away is
//    noticed at once: writer->closed() turns true and further writes are dropped.
//  - Malformed requests get 400, bodies over 64 MiB get 413, and a handler that throws before answering
//    gets 500. Unknown paths are the handler's business.
//  - ResponseWriter calls made after the HttpServer was destroyed are no-ops.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace hb::http {

struct HttpRequest {
  std::string method;                          // "GET", "POST", ...
  std::string target;                          // "/v1/chat/completions?x=1" as sent
  std::string body;
  std::map<std::string, std::string> headers;  // keys lower-case; repeated headers joined with ", "
  std::string remote;                          // "127.0.0.1:53211"
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Answers one request. Thread-safe: every call is forwarded to the connection's strand.
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  // The whole response with a Content-Length.
  virtual void send(int status, const std::string& content_type, std::string body, HeaderList extra_headers = {}) = 0;
  // Status line and headers of a chunked (streamed) response; then write()... end().
  virtual void start_stream(int status, const std::string& content_type, HeaderList extra_headers = {}) = 0;
  // One chunk of a streamed response (empty data is ignored); no-op once closed.
  virtual void write(std::string data) = 0;
  // The terminating chunk; the connection then reads the next request (or closes).
  virtual void end() = 0;
  // Closes the socket at once without finishing the response (simulates a cut stream).
  virtual void abort() = 0;
  // True once the client went away, or abort() or end() was called, or send() finished the response.
  virtual bool closed() const = 0;
};

using Handler = std::function<void(const HttpRequest&, std::shared_ptr<ResponseWriter>)>;

class HttpServer {
 public:
  // Binds and starts listening at once (port 0: an ephemeral port, see port()). Throws hb::Error
  // (network) when the address cannot be bound.
  HttpServer(const std::string& host, int port, Handler handler, int io_threads = 1);
  ~HttpServer();  // stop() and join
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const;
  // Stops accepting, closes every connection and joins the io threads. Idempotent.
  void stop();
  // Runs fn on an io thread after `delay` (scripted delays without threads). fn must not block; an
  // exception it throws is logged and swallowed. Dropped when the server stops first.
  void post_after(std::chrono::nanoseconds delay, std::function<void()> fn);
  // Same, at an absolute steady_clock time (keeps long token schedules free of drift).
  void post_at(std::chrono::steady_clock::time_point when, std::function<void()> fn);
  // Connections open now and requests handled so far (for tests and stats).
  size_t open_connections() const;
  size_t requests_handled() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

// "200 OK" style reason phrase for a status code ("Unknown" when none).
const char* status_reason(int status);

}  // namespace hb::http
