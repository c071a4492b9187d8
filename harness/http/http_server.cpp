// The only translation unit that includes Boost.Beast (it compiles slowly). Requests are parsed with
// Beast's parser; responses are serialised by hand (status line, headers, chunked framing), which keeps
// the write path a plain gather-write of queued strings.
#include "harness/http/http_server.h"

#include <array>
#include <atomic>
#include <cstdio>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include <boost/asio.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "harness/base/console.h"
#include "harness/base/error.h"
#include "harness/base/strings.h"

namespace hb::http {
namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

constexpr uint64_t kBodyLimitBytes = 64ull << 20;
constexpr uint32_t kHeaderLimitBytes = 64u << 10;
// Bytes a client may pipeline while a response is still being written before we give up on it.
constexpr size_t kPipelineLimitBytes = 4u << 20;

// Guards posting to the io_context from foreign threads against the server being destroyed.
struct Lifetime {
  std::mutex mu;
  bool alive = true;
};

class Session;

class WriterImpl final : public ResponseWriter, public std::enable_shared_from_this<WriterImpl> {
 public:
  WriterImpl(std::weak_ptr<Session> session, std::shared_ptr<Lifetime> life)
      : session_(std::move(session)), life_(std::move(life)) {}
  void send(int status, const std::string& content_type, std::string body, HeaderList extra_headers) override;
  void start_stream(int status, const std::string& content_type, HeaderList extra_headers) override;
  void write(std::string data) override;
  void end() override;
  void abort() override;
  bool closed() const override { return closed_.load(std::memory_order_acquire); }
  void mark_closed() { closed_.store(true, std::memory_order_release); }

 private:
  template <typename Fn>
  void run_on_strand(Fn&& fn);
  std::weak_ptr<Session> session_;
  std::shared_ptr<Lifetime> life_;
  std::atomic<bool> closed_{false};
};

}  // namespace

struct HttpServer::Impl {
  Handler handler;
  std::shared_ptr<Lifetime> life = std::make_shared<Lifetime>();
  std::atomic<size_t> open{0};
  std::atomic<size_t> handled{0};
  std::mutex sessions_mu;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;
  int io_threads = 1;
  bool stopped = false;
  std::mutex stop_mu;
  // Declared last so that it is destroyed first: pending handlers (and the sessions they keep alive)
  // die while the members above still exist.
  asio::io_context ioc;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  int port = 0;

  void do_accept();
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(HttpServer::Impl* server, tcp::socket socket) : server_(server), socket_(std::move(socket)) {
    server_->open.fetch_add(1);
  }
  ~Session() {
    server_->open.fetch_sub(1);
    std::lock_guard<std::mutex> lock(server_->sessions_mu);
    server_->sessions.erase(this);
  }

  void start() {
    {
      std::lock_guard<std::mutex> lock(server_->sessions_mu);
      server_->sessions[this] = weak_from_this();
    }
    error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);
    try {
      auto ep = socket_.remote_endpoint();
      remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
    } catch (...) {
    }
    asio::dispatch(socket_.get_executor(), [self = shared_from_this()] { self->do_read(); });
  }

  // Closes the socket now (called after the io threads were joined, or on the strand).
  void force_close() {
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    if (writer_) writer_->mark_closed();
  }

  asio::any_io_executor executor() { return socket_.get_executor(); }

  // --- called on the strand by WriterImpl ---------------------------------------------------------
  void do_send(WriterImpl* w, int status, const std::string& content_type, std::string body, HeaderList extra) {
    if (w != writer_.get() || state_ != State::awaiting_response || w->closed()) return;
    std::string out = status_head(status, content_type, extra);
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    if (!head_request_) out += body;
    enqueue(std::move(out));
    finish_response();
  }

  void do_start_stream(WriterImpl* w, int status, const std::string& content_type, HeaderList extra) {
    if (w != writer_.get() || state_ != State::awaiting_response || w->closed()) return;
    std::string out = status_head(status, content_type, extra);
    if (http10_) {
      keep_alive_ = false;  // HTTP/1.0 has no chunked encoding: the stream ends with the connection
      out += "\r\n";
    } else {
      out += "Transfer-Encoding: chunked\r\n\r\n";
    }
    state_ = State::streaming;
    enqueue(std::move(out));
  }

  void do_write(WriterImpl* w, std::string data) {
    if (w != writer_.get() || state_ != State::streaming || w->closed() || data.empty()) return;
    if (http10_) {
      enqueue(std::move(data));
      return;
    }
    char hex[20];
    int n = std::snprintf(hex, sizeof hex, "%zx\r\n", data.size());
    std::string out;
    out.reserve(static_cast<size_t>(n) + data.size() + 2);
    out.append(hex, static_cast<size_t>(n));
    out += data;
    out += "\r\n";
    enqueue(std::move(out));
  }

  void do_end(WriterImpl* w) {
    if (w != writer_.get() || w->closed()) return;
    if (state_ == State::awaiting_response) {
      // end() without a response: answer 500 rather than leaving the client waiting.
      do_send(w, 500, "text/plain", "handler ended the response without sending one\n", {});
      return;
    }
    if (state_ != State::streaming) return;
    if (!http10_) enqueue("0\r\n\r\n");
    finish_response();
  }

  void do_abort(WriterImpl* w) {
    if (w != writer_.get() || w->closed()) return;
    w->mark_closed();
    keep_alive_ = false;
    state_ = State::closing;
    close_after_flush_ = true;
    if (!writing_) close_now();
  }

 private:
  enum class State { reading, awaiting_response, streaming, closing };

  // One read loop for the connection's whole life: bytes go into buffer_, requests are parsed from it
  // when the connection is ready for one, and a read stays pending while a response is produced, so a
  // client that goes away is noticed at once. Pipelined requests wait in buffer_.
  void do_read() {
    if (state_ == State::closing || closed_) return;
    if ((state_ == State::awaiting_response || state_ == State::streaming) && buffer_.size() > kPipelineLimitBytes) {
      state_ = State::closing;  // a client that floods us while we answer
      close_now();
      return;
    }
    socket_.async_read_some(buffer_.prepare(16384), [self = shared_from_this()](error_code ec, size_t n) {
      self->on_read(ec, n);
    });
  }

  void on_read(error_code ec, size_t n) {
    if (ec) {
      // The client closed or reset the connection (or stop() closed it).
      if (writer_) writer_->mark_closed();
      state_ = State::closing;
      close_now();
      return;
    }
    buffer_.commit(n);
    if (state_ == State::reading) parse_available();
    do_read();
  }

  void parse_available() {
    while (state_ == State::reading && buffer_.size() > 0) {
      if (!parser_) {
        parser_.emplace();
        parser_->body_limit(kBodyLimitBytes);
        parser_->header_limit(kHeaderLimitBytes);
        parser_->eager(true);
        continue_sent_ = false;
      }
      error_code ec;
      size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == bhttp::error::need_more) return;
      if (ec) return fail_parse(ec);
      if (parser_->is_header_done() && !continue_sent_ && !parser_->is_done()) {
        continue_sent_ = true;
        auto expect = parser_->get()[bhttp::field::expect];
        if (!expect.empty() && hb::to_lower(std::string(expect)) == "100-continue" && parser_->get().version() >= 11)
          enqueue("HTTP/1.1 100 Continue\r\n\r\n");
      }
      if (parser_->is_done()) on_request();
      else if (used == 0) return;
    }
  }

  void fail_parse(error_code ec) {
    // A malformed request: answer and close.
    int status = ec == bhttp::error::body_limit ? 413 : (ec == bhttp::error::header_limit ? 431 : 400);
    keep_alive_ = false;
    http10_ = false;
    std::string body = std::string("bad request: ") + ec.message() + "\n";
    std::string out = status_head(status, "text/plain", {});
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    state_ = State::closing;
    close_after_flush_ = true;
    enqueue(std::move(out));
  }

  void on_request() {
    auto msg = parser_->release();
    parser_.reset();
    HttpRequest req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    req.body = std::move(msg.body());
    req.remote = remote_;
    for (const auto& field : msg) {
      std::string key = hb::to_lower(std::string(field.name_string()));
      auto [it, inserted] = req.headers.emplace(key, std::string(field.value()));
      if (!inserted) it->second += ", " + std::string(field.value());
    }
    keep_alive_ = msg.keep_alive();
    http10_ = msg.version() < 11;
    head_request_ = msg.method() == bhttp::verb::head;
    state_ = State::awaiting_response;
    writer_ = std::make_shared<WriterImpl>(weak_from_this(), server_->life);
    server_->handled.fetch_add(1);
    auto writer = writer_;
    try {
      server_->handler(req, writer);
    } catch (const std::exception& e) {
      hb::log_warn("http: handler threw on {} {}: {}", req.method, req.target, e.what());
      if (state_ == State::awaiting_response) do_send(writer.get(), 500, "text/plain", std::string(e.what()) + "\n", {});
      else if (state_ == State::streaming) do_abort(writer.get());
    } catch (...) {
      if (state_ == State::awaiting_response) do_send(writer.get(), 500, "text/plain", "internal error\n", {});
      else if (state_ == State::streaming) do_abort(writer.get());
    }
  }

  std::string status_head(int status, const std::string& content_type, const HeaderList& extra) {
    std::string out = http10_ ? "HTTP/1.0 " : "HTTP/1.1 ";
    out += std::to_string(status);
    out += ' ';
    out += status_reason(status);
    out += "\r\n";
    if (!content_type.empty()) out += "Content-Type: " + content_type + "\r\n";
    for (const auto& [k, v] : extra) out += k + ": " + v + "\r\n";
    if (!keep_alive_) out += "Connection: close\r\n";
    else if (http10_) out += "Connection: keep-alive\r\n";
    return out;
  }

  void finish_response() {
    if (writer_) writer_->mark_closed();
    if (!keep_alive_) {
      state_ = State::closing;
      close_after_flush_ = true;
      if (!writing_) close_now();
      return;
    }
    state_ = State::reading;
    // A pipelined request may already wait in buffer_; parse it from a fresh handler (no recursion).
    if (buffer_.size() > 0)
      asio::post(socket_.get_executor(), [self = shared_from_this()] {
        if (self->state_ == State::reading) self->parse_available();
      });
  }

  void enqueue(std::string bytes) {
    if (closed_) return;
    queue_.push_back(std::move(bytes));
    if (!writing_) flush();
  }

  void flush() {
    if (queue_.empty()) {
      if (close_after_flush_) close_now();
      return;
    }
    writing_ = true;
    inflight_.clear();
    while (!queue_.empty()) {
      inflight_.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    gather_.clear();
    for (const auto& s : inflight_) gather_.emplace_back(s.data(), s.size());
    asio::async_write(socket_, gather_, [self = shared_from_this()](error_code ec, size_t) {
      self->writing_ = false;
      if (ec) {
        if (self->writer_) self->writer_->mark_closed();
        self->state_ = State::closing;
        self->close_now();
        return;
      }
      self->flush();
    });
  }

  void close_now() {
    if (closed_) return;
    closed_ = true;
    queue_.clear();
    if (writer_) writer_->mark_closed();
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

  HttpServer::Impl* server_;
  tcp::socket socket_;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<WriterImpl> writer_;
  State state_ = State::reading;
  bool keep_alive_ = true;
  bool http10_ = false;
  bool head_request_ = false;
  bool continue_sent_ = false;
  bool writing_ = false;
  bool close_after_flush_ = false;
  bool closed_ = false;
  std::deque<std::string> queue_;
  std::vector<std::string> inflight_;
  std::vector<asio::const_buffer> gather_;
};

template <typename Fn>
void WriterImpl::run_on_strand(Fn&& fn) {
  std::lock_guard<std::mutex> lock(life_->mu);
  if (!life_->alive) return;
  auto session = session_.lock();
  if (!session) return;
  asio::dispatch(session->executor(),
                 [session, self = shared_from_this(), fn = std::forward<Fn>(fn)]() mutable { fn(*session); });
}

void WriterImpl::send(int status, const std::string& content_type, std::string body, HeaderList extra_headers) {
  if (closed()) return;
  run_on_strand([this, status, ct = content_type, body = std::move(body), extra = std::move(extra_headers)](Session& s) mutable { s.do_send(this, status, ct, std::move(body), std::move(extra)); });
}

void WriterImpl::start_stream(int status, const std::string& content_type, HeaderList extra_headers) {
  if (closed()) return;
  run_on_strand([this, status, ct = content_type, extra = std::move(extra_headers)](Session& s) mutable {
    s.do_start_stream(this, status, ct, std::move(extra));
  });
}

void WriterImpl::write(std::string data) {
  if (closed()) return;
  run_on_strand([this, data = std::move(data)](Session& s) mutable { s.do_write(this, std::move(data)); });
}

void WriterImpl::end() {
  if (closed()) return;
  run_on_strand([this](Session& s) { s.do_end(this); });
}

void WriterImpl::abort() {
  if (closed()) return;
  run_on_strand([this](Session& s) { s.do_abort(this); });
}

}  // namespace

// The lambdas above capture `this` (a WriterImpl) while run_on_strand keeps a shared_ptr to it alive
// until they ran; do_* compare the pointer with the session's current writer_ before acting.

void HttpServer::Impl::do_accept() {
  acceptor->async_accept(asio::make_strand(ioc), [this](error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
    if (ec) {
      // Typically EMFILE: wait a little and try again rather than spinning.
      hb::log_warn("http: accept failed on port {}: {} (raise `ulimit -n` for many connections)", port, ec.message());
      auto timer = std::make_shared<asio::steady_timer>(ioc, std::chrono::milliseconds(50));
      timer->async_wait([this, timer](error_code e) {
        if (!e) do_accept();
      });
      return;
    }
    std::make_shared<Session>(this, std::move(socket))->start();
    do_accept();
  });
}

HttpServer::HttpServer(const std::string& host, int port, Handler handler, int io_threads)
    : impl_(std::make_shared<Impl>()) {
  impl_->handler = std::move(handler);
  impl_->io_threads = std::max(1, io_threads);
  error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) throw Error(ErrorCode::usage, "http server: '" + host + "' is not an IP address; use e.g. 127.0.0.1");
  tcp::endpoint ep(address, static_cast<unsigned short>(port));
  impl_->acceptor.emplace(impl_->ioc);
  impl_->acceptor->open(ep.protocol(), ec);
  if (!ec) impl_->acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor->bind(ep, ec);
  if (!ec) impl_->acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw Error(ErrorCode::network, "http server: cannot listen on " + host + ":" + std::to_string(port) + ": " +
                                        ec.message() + "; pick another port (0 = any free port)");
  impl_->port = impl_->acceptor->local_endpoint().port();
  impl_->do_accept();
  for (int i = 0; i < impl_->io_threads; ++i) {
    impl_->threads.emplace_back([impl = impl_.get()] {
      for (;;) {
        try {
          impl->ioc.run();
          return;
        } catch (const std::exception& e) {
          hb::log_error("http: io thread caught: {}", e.what());
        }
      }
    });
  }
}

HttpServer::~HttpServer() { stop(); }

int HttpServer::port() const { return impl_->port; }

void HttpServer::stop() {
  std::lock_guard<std::mutex> stop_lock(impl_->stop_mu);
  if (impl_->stopped) return;
  impl_->stopped = true;
  {
    std::lock_guard<std::mutex> lock(impl_->life->mu);
    impl_->life->alive = false;
  }
  asio::post(impl_->ioc, [impl = impl_.get()] {
    error_code ec;
    impl->acceptor->close(ec);
  });
  impl_->ioc.stop();
  for (auto& t : impl_->threads)
    if (t.joinable()) t.join();
  // No io thread runs now: close every connection so clients see the end at once.
  std::vector<std::shared_ptr<Session>> alive;
  {
    std::lock_guard<std::mutex> lock(impl_->sessions_mu);
    for (auto& [ptr, weak] : impl_->sessions)
      if (auto s = weak.lock()) alive.push_back(std::move(s));
  }
  for (auto& s : alive) s->force_close();
  error_code ec;
  impl_->acceptor->close(ec);
}

void HttpServer::post_after(std::chrono::nanoseconds delay, std::function<void()> fn) {
  post_at(std::chrono::steady_clock::now() + delay, std::move(fn));
}

void HttpServer::post_at(std::chrono::steady_clock::time_point when, std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(impl_->life->mu);
  if (!impl_->life->alive) return;
  auto timer = std::make_shared<asio::steady_timer>(impl_->ioc, when);
  timer->async_wait([timer, fn = std::move(fn)](error_code ec) {
    if (ec) return;
    try {
      fn();
    } catch (const std::exception& e) {
      hb::log_warn("http: timer callback threw: {}", e.what());
    } catch (...) {
      hb::log_warn("http: timer callback threw a non-standard exception");
    }
  });
}

size_t HttpServer::open_connections() const { return impl_->open.load(); }
size_t HttpServer::requests_handled() const { return impl_->handled.load(); }

const char* status_reason(int status) {
  auto text = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
  if (text.empty()) return "Unknown";
  // obsolete_reason returns a view of a static string literal, which is NUL-terminated.
  return text.data();
}

}  // namespace hb::http
