// OpenAiBackend: libcurl multi driven by epoll (curl_multi_socket_action) on one loop thread.
// Layers: transport (this file's loop and callbacks), protocol (openai_protocol), framing (sse_decoder).
#include "harness/openai/openai_backend.h"

#include <curl/curl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "harness/base/clock.h"
#include "harness/base/console.h"
#include "harness/base/error.h"
#include "harness/base/redact.h"
#include "harness/base/strings.h"
#include "harness/openai/openai_protocol.h"
#include "harness/openai/sse_decoder.h"

namespace hb::openai {
namespace {

constexpr size_t kMaxErrorBodyBytes = 64 << 10;
constexpr size_t kMaxBodyBytes = 256u << 20;
constexpr double kMaxRetryAfterS = 300;

struct Endpoint {
  std::string base;     // without a trailing '/'
  std::string display;  // base with URL credentials redacted: what is logged, stored and described
  std::atomic<int64_t> in_flight{0};
  std::atomic<int64_t> requests{0};  // attempts sent
  std::atomic<int64_t> errors{0};    // failed attempts
};

class OpenAiBackendImpl;

// One request through all its attempts.
struct Transfer {
  OpenAiBackendImpl* owner = nullptr;
  GenerationRequest request;
  ResultCallback done;
  GenerationResult result;
  std::string payload;
  std::string path;
  // Current attempt.
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  size_t endpoint = 0;
  std::string url;
  char curl_error[CURL_ERROR_SIZE] = {0};
  long status = 0;
  bool event_stream = false;      // Content-Type: text/event-stream
  double retry_after_s = -1;
  std::string body;               // error body, or the whole non-streaming body
  SseDecoder sse;
  StreamChunk chunk;
  StreamState state;
  bool saw_done = false;
  std::optional<ErrorInfo> fail;  // set by a callback: abort this attempt, no retry
  int64_t last_activity_ns = 0;
  int64_t retry_due_ns = 0;
  size_t body_sent = 0;           // bytes of payload handed to libcurl in this attempt
  // The attempt being recorded in result.attempt_log (closed by close_attempt).
  bool attempt_open = false;
  int64_t attempt_start_ns = 0;
  int64_t attempt_bytes = 0;      // header + body bytes received
  int requests_on_handle = 0;     // request headers libcurl sent on this easy handle (> 1: a silent re-send)
};

class OpenAiBackendImpl final : public Backend {
 public:
  explicit OpenAiBackendImpl(OpenAiOptions options);
  ~OpenAiBackendImpl() override;
  BackendInfo describe() const override;
  void submit(GenerationRequest request, ResultCallback done) override;
  void cancel_all() override;

 private:
  // libcurl callbacks (noexcept; they never let an exception reach C code).
  static size_t on_write(char* ptr, size_t size, size_t nmemb, void* user) noexcept;
  static size_t on_header(char* ptr, size_t size, size_t nmemb, void* user) noexcept;
  static size_t on_read(char* buffer, size_t size, size_t nitems, void* user) noexcept;
  static int on_seek(void* user, curl_off_t offset, int origin) noexcept;
  static int on_socket(CURL* easy, curl_socket_t s, int what, void* user, void* socketp) noexcept;
  static int on_timer(CURLM* multi, long timeout_ms, void* user) noexcept;
  static int on_debug(CURL* easy, curl_infotype type, char* data, size_t size, void* user) noexcept;

  void loop() noexcept;
  void loop_body();
  void take_commands();
  void start_ready();
  bool start_attempt(Transfer* t);
  void reset_for_attempt(Transfer* t);
  void process_done();
  void finish_attempt(Transfer* t, CURLcode rc);
  void handle_events(Transfer* t, int64_t now);
  void watchdog(int64_t now);
  void detach(Transfer* t);
  void retry_or_fail(std::unique_ptr<Transfer> t, ErrorInfo error, bool retryable);
  void close_attempt(Transfer* t, const std::string& kind, const std::string& message);
  void complete(std::unique_ptr<Transfer> t);
  void cancel_everything(const std::string& why);
  size_t pick_endpoint();
  double backoff_s(int attempt);
  std::string scrub(std::string text) const;
  std::string http_error_message(const Transfer& t) const;

  OpenAiOptions opt_;
  std::string api_key_;
  std::string auth_header_;
  std::vector<Endpoint> endpoints_;
  std::atomic<int64_t> submitted_{0};

  // Shared with submitters.
  std::mutex mu_;
  std::vector<std::unique_ptr<Transfer>> incoming_;
  bool cancel_requested_ = false;
  bool stopping_ = false;

  // Loop thread only.
  CURLM* multi_ = nullptr;
  int epfd_ = -1;
  int evfd_ = -1;
  int64_t curl_due_ns_ = -1;
  int64_t next_watchdog_ns_ = 0;
  std::deque<std::unique_ptr<Transfer>> queued_;
  std::multimap<int64_t, std::unique_ptr<Transfer>> retrying_;
  std::map<Transfer*, std::unique_ptr<Transfer>> active_;
  size_t rr_ = 0;
  std::mt19937_64 rng_{std::random_device{}()};
  std::thread thread_;
};

void global_curl_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string strip_slash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

OpenAiBackendImpl::OpenAiBackendImpl(OpenAiOptions options) : opt_(std::move(options)), endpoints_(opt_.base_urls.size()) {
  for (size_t i = 0; i < opt_.base_urls.size(); ++i) {
    endpoints_[i].base = strip_slash(opt_.base_urls[i]);
    endpoints_[i].display = redact_credentials(endpoints_[i].base);
  }
  if (!opt_.api_key_env.empty()) {
    if (const char* key = std::getenv(opt_.api_key_env.c_str())) api_key_ = key;
  }
  if (!api_key_.empty()) auth_header_ = "Authorization: Bearer " + api_key_;
  global_curl_init();
  multi_ = curl_multi_init();
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  evfd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (!multi_ || epfd_ < 0 || evfd_ < 0) throw Error(ErrorCode::internal, "openai backend: cannot create the event loop");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = evfd_;
  epoll_ctl(epfd_, EPOLL_CTL_ADD, evfd_, &ev);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &OpenAiBackendImpl::on_socket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &OpenAiBackendImpl::on_timer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, static_cast<long>(opt_.max_in_flight + 16));
  thread_ = std::thread([this] { loop(); });
}

OpenAiBackendImpl::~OpenAiBackendImpl() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  uint64_t one = 1;
  (void)!::write(evfd_, &one, sizeof one);
  if (thread_.joinable()) thread_.join();
  if (multi_) curl_multi_cleanup(multi_);
  if (epfd_ >= 0) ::close(epfd_);
  if (evfd_ >= 0) ::close(evfd_);
}

BackendInfo OpenAiBackendImpl::describe() const {
  BackendInfo info;
  info.kind = "openai";
  std::vector<std::string> bases;
  for (const auto& e : endpoints_) bases.push_back(e.display);
  info.spec = "openai:" + join(bases, ",");
  info.model_name = opt_.model_name;
  nlohmann::json eps = nlohmann::json::array();
  for (const auto& e : endpoints_)
    eps.push_back({{"url", e.display}, {"requests", e.requests.load()}, {"errors", e.errors.load()},
                   {"in_flight", e.in_flight.load()}});
  info.details = {{"endpoints", eps},
                  {"stream", opt_.stream},
                  {"max_in_flight", opt_.max_in_flight},
                  {"connect_timeout_s", opt_.connect_timeout_s},
                  {"idle_timeout_s", opt_.idle_timeout_s},
                  {"max_attempts", opt_.max_attempts},
                  {"api_key_env", opt_.api_key_env},
                  {"api_key_set", !api_key_.empty()},
                  {"client", std::string("libcurl ") + curl_version_info(CURLVERSION_NOW)->version}};
  return info;
}

void OpenAiBackendImpl::submit(GenerationRequest request, ResultCallback done) {
  auto t = std::make_unique<Transfer>();
  t->owner = this;
  t->result.submit_ns = monotonic_ns();
  t->path = request_path(request);
  t->payload = build_payload(request, opt_.model_name, opt_.stream).dump(-1, ' ', false,
                                                                         nlohmann::json::error_handler_t::replace);
  t->request = std::move(request);
  t->done = std::move(done);
  submitted_.fetch_add(1);
  {
    std::lock_guard<std::mutex> lock(mu_);
    incoming_.push_back(std::move(t));
  }
  uint64_t one = 1;
  (void)!::write(evfd_, &one, sizeof one);
}

void OpenAiBackendImpl::cancel_all() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    cancel_requested_ = true;
  }
  uint64_t one = 1;
  (void)!::write(evfd_, &one, sizeof one);
}

// --- libcurl callbacks ------------------------------------------------------------------------------

int OpenAiBackendImpl::on_socket(CURL*, curl_socket_t s, int what, void* user, void*) noexcept {
  auto* self = static_cast<OpenAiBackendImpl*>(user);
  if (what == CURL_POLL_REMOVE) {
    epoll_ctl(self->epfd_, EPOLL_CTL_DEL, s, nullptr);
    return 0;
  }
  epoll_event ev{};
  ev.data.fd = s;
  if (what & CURL_POLL_IN) ev.events |= EPOLLIN;
  if (what & CURL_POLL_OUT) ev.events |= EPOLLOUT;
  if (epoll_ctl(self->epfd_, EPOLL_CTL_MOD, s, &ev) != 0 && errno == ENOENT)
    epoll_ctl(self->epfd_, EPOLL_CTL_ADD, s, &ev);
  return 0;
}

int OpenAiBackendImpl::on_timer(CURLM*, long timeout_ms, void* user) noexcept {
  auto* self = static_cast<OpenAiBackendImpl*>(user);
  self->curl_due_ns_ = timeout_ms < 0 ? -1 : monotonic_ns() + static_cast<int64_t>(timeout_ms) * 1'000'000;
  return 0;
}

// Counts the request headers libcurl sends. When a reused keep-alive connection turns out to have been
// closed by the server, libcurl silently sends the request again on a new one; the server may have read
// the first copy, so each copy is an attempt of its own (recorded as kind "resent").
int OpenAiBackendImpl::on_debug(CURL*, curl_infotype type, char*, size_t, void* user) noexcept {
  if (type != CURLINFO_HEADER_OUT) return 0;
  auto* t = static_cast<Transfer*>(user);
  if (++t->requests_on_handle > 1) {
    try {
      t->owner->close_attempt(t, "resent",
                              "the kept-alive connection was closed by the server without an answer; libcurl sent the "
                              "request again on a new connection");
      t->attempt_open = true;
      t->attempt_start_ns = monotonic_ns();
      t->result.attempts += 1;
      t->owner->endpoints_[t->endpoint].requests.fetch_add(1);
    } catch (...) {
    }
  }
  return 0;
}

size_t OpenAiBackendImpl::on_read(char* buffer, size_t size, size_t nitems, void* user) noexcept {
  auto* t = static_cast<Transfer*>(user);
  if (t->body_sent == 0) {
    t->result.send_ns = monotonic_ns();
    t->last_activity_ns = t->result.send_ns;
  }
  size_t n = std::min(size * nitems, t->payload.size() - t->body_sent);
  if (n > 0) std::memcpy(buffer, t->payload.data() + t->body_sent, n);
  t->body_sent += n;
  return n;
}

int OpenAiBackendImpl::on_seek(void* user, curl_off_t offset, int origin) noexcept {
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<size_t>(offset) > t->payload.size()) return CURL_SEEKFUNC_CANTSEEK;
  t->body_sent = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

size_t OpenAiBackendImpl::on_header(char* ptr, size_t size, size_t nmemb, void* user) noexcept {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * nmemb;
  t->attempt_bytes += static_cast<int64_t>(n);
  try {
    int64_t now = monotonic_ns();
    t->last_activity_ns = now;
    if (t->result.first_byte_ns == 0) t->result.first_byte_ns = now;
    std::string_view line(ptr, n);
    if (starts_with(line, "HTTP/")) {  // a new status line (after 100 Continue, or a redirect)
      t->event_stream = false;
      t->retry_after_s = -1;
      return n;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return n;
    std::string name = to_lower(trim(line.substr(0, colon)));
    std::string_view value = trim(line.substr(colon + 1));
    if (name == "content-type") {
      t->event_stream = to_lower(value).find("text/event-stream") != std::string::npos;
    } else if (name == "retry-after") {
      char* end = nullptr;
      std::string v(value);
      double s = std::strtod(v.c_str(), &end);
      if (end != v.c_str() && s >= 0) t->retry_after_s = std::min(s, kMaxRetryAfterS);
    }
  } catch (...) {
  }
  return n;
}

size_t OpenAiBackendImpl::on_write(char* ptr, size_t size, size_t nmemb, void* user) noexcept {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * nmemb;
  t->attempt_bytes += static_cast<int64_t>(n);
  try {
    int64_t now = monotonic_ns();
    t->last_activity_ns = now;
    if (t->result.first_byte_ns == 0) t->result.first_byte_ns = now;
    if (t->status == 0) curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->status);
    if (t->status < 200 || t->status >= 300) {
      if (t->body.size() < kMaxErrorBodyBytes) t->body.append(ptr, std::min(n, kMaxErrorBodyBytes - t->body.size()));
      return n;
    }
    if (!t->event_stream) {
      if (t->body.size() + n > kMaxBodyBytes) {
        t->fail = ErrorInfo{"protocol", "the response from " + t->url + " is larger than 256 MiB"};
        return 0;
      }
      t->body.append(ptr, n);
      return n;
    }
    t->sse.push(std::string_view(ptr, n));
    t->owner->handle_events(t, now);
    if (!t->fail && t->sse.overflowed())
      t->fail = ErrorInfo{"protocol", "a single event of the stream from " + t->owner->endpoints_[t->endpoint].display +
                                          " is larger than " + std::to_string(SseDecoder::kDefaultMaxPendingBytes >> 20) +
                                          " MiB; the stream was abandoned"};
    return t->fail ? 0 : n;
  } catch (const std::exception& e) {
    t->fail = ErrorInfo{"internal", std::string("client error while reading the response: ") + e.what()};
    return 0;
  } catch (...) {
    t->fail = ErrorInfo{"internal", "client error while reading the response"};
    return 0;
  }
}

void OpenAiBackendImpl::handle_events(Transfer* t, int64_t now) {
  SseEvent ev;
  std::string why;
  while (!t->fail && t->sse.next(ev)) {
    if (ev.is_done()) {
      t->saw_done = true;
      continue;
    }
    if (t->saw_done) continue;  // nothing after [DONE] counts
    if (!parse_stream_chunk(ev.data, t->chunk, why)) {
      t->fail = ErrorInfo{"protocol", scrub(why + " from " + t->url)};
      return;
    }
    if (t->chunk.error_message) {
      t->fail = ErrorInfo{"server_error", scrub("the server sent an error event mid-stream from " + t->url + ": " +
                                                *t->chunk.error_message)};
      return;
    }
    apply_chunk(t->chunk, now, t->state, t->result);
  }
}

// --- the loop ----------------------------------------------------------------------------------------

void OpenAiBackendImpl::loop() noexcept {
  for (;;) {
    try {
      loop_body();
      return;
    } catch (const std::exception& e) {
      log_error("openai backend: event loop caught: {} (continuing)", e.what());
    } catch (...) {
      log_error("openai backend: event loop caught a non-standard exception (continuing)");
    }
  }
}

void OpenAiBackendImpl::loop_body() {
  std::vector<epoll_event> events(512);
  for (;;) {
    take_commands();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) break;
    }
    start_ready();
    int64_t now = monotonic_ns();
    int64_t due = -1;
    auto consider = [&](int64_t t) {
      if (t >= 0 && (due < 0 || t < due)) due = t;
    };
    consider(curl_due_ns_);
    if (!retrying_.empty()) consider(retrying_.begin()->first);
    if (!active_.empty()) consider(next_watchdog_ns_);
    int timeout_ms = due < 0 ? -1 : static_cast<int>(std::max<int64_t>(0, (due - now + 999'999) / 1'000'000));
    int n = epoll_wait(epfd_, events.data(), static_cast<int>(events.size()), timeout_ms);
    int running = 0;
    for (int i = 0; i < n; ++i) {
      int fd = events[static_cast<size_t>(i)].data.fd;
      if (fd == evfd_) {
        uint64_t v;
        while (::read(evfd_, &v, sizeof v) > 0) {
        }
        continue;
      }
      uint32_t e = events[static_cast<size_t>(i)].events;
      int flags = 0;
      if (e & EPOLLIN) flags |= CURL_CSELECT_IN;
      if (e & EPOLLOUT) flags |= CURL_CSELECT_OUT;
      if (e & (EPOLLERR | EPOLLHUP)) flags |= CURL_CSELECT_ERR;
      curl_multi_socket_action(multi_, fd, flags, &running);
    }
    now = monotonic_ns();
    if (curl_due_ns_ >= 0 && now >= curl_due_ns_) {
      curl_due_ns_ = -1;
      curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    process_done();
    if (!active_.empty() && now >= next_watchdog_ns_) watchdog(now);
  }
  cancel_everything("the backend was shut down");
}

void OpenAiBackendImpl::take_commands() {
  std::vector<std::unique_ptr<Transfer>> fresh;
  bool cancel = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    fresh.swap(incoming_);
    cancel = cancel_requested_;
    cancel_requested_ = false;
  }
  for (auto& t : fresh) queued_.push_back(std::move(t));
  if (cancel) cancel_everything("cancel_all() was called");
}

void OpenAiBackendImpl::start_ready() {
  int64_t now = monotonic_ns();
  // Retries whose backoff elapsed go to the front of the queue: they were submitted earlier.
  std::vector<std::unique_ptr<Transfer>> due;
  while (!retrying_.empty() && retrying_.begin()->first <= now) {
    due.push_back(std::move(retrying_.begin()->second));
    retrying_.erase(retrying_.begin());
  }
  for (auto it = due.rbegin(); it != due.rend(); ++it) queued_.push_front(std::move(*it));
  while (!queued_.empty() && static_cast<int>(active_.size()) < opt_.max_in_flight) {
    auto t = std::move(queued_.front());
    queued_.pop_front();
    Transfer* raw = t.get();
    active_.emplace(raw, std::move(t));
    if (!start_attempt(raw)) {
      auto owned = std::move(active_[raw]);
      active_.erase(raw);
      ErrorInfo err = *owned->fail;
      owned->fail.reset();
      retry_or_fail(std::move(owned), err, false);
    }
  }
}

size_t OpenAiBackendImpl::pick_endpoint() {
  size_t n = endpoints_.size();
  size_t best = rr_ % n;
  for (size_t k = 0; k < n; ++k) {
    size_t i = (rr_ + k) % n;
    if (endpoints_[i].in_flight.load() < endpoints_[best].in_flight.load()) best = i;
  }
  ++rr_;
  return best;
}

void OpenAiBackendImpl::reset_for_attempt(Transfer* t) {
  GenerationResult& r = t->result;
  r.content.clear();
  r.reasoning.clear();
  r.finish_reason.clear();
  r.usage = TokenUsage{};
  r.first_byte_ns = r.first_token_ns = r.first_content_ns = r.end_ns = 0;
  r.chunks.clear();
  r.error.reset();
  t->status = 0;
  t->event_stream = false;
  t->retry_after_s = -1;
  t->body.clear();
  t->sse.reset();
  t->state = StreamState{};
  t->saw_done = false;
  t->fail.reset();
  t->curl_error[0] = 0;
  t->attempt_bytes = 0;
  t->requests_on_handle = 0;
}

bool OpenAiBackendImpl::start_attempt(Transfer* t) {
  reset_for_attempt(t);
  t->endpoint = pick_endpoint();
  Endpoint& ep = endpoints_[t->endpoint];
  t->url = ep.base + t->path;
  t->result.endpoint = ep.display;
  t->result.attempts += 1;
  t->attempt_open = true;
  t->attempt_start_ns = monotonic_ns();
  t->result.send_ns = monotonic_ns();  // refined to the moment the request is written (on_read)
  t->last_activity_ns = t->result.send_ns;
  t->body_sent = 0;
  if (t->result.chunks.capacity() == 0)
    t->result.chunks.reserve(static_cast<size_t>(std::clamp(t->request.sampling.max_tokens, 16, 4096)));
  CURL* e = curl_easy_init();
  if (!e) {
    t->fail = ErrorInfo{"internal", "curl_easy_init failed"};
    return false;
  }
  t->easy = e;
  curl_slist* h = nullptr;
  h = curl_slist_append(h, "Content-Type: application/json");
  h = curl_slist_append(h, opt_.stream ? "Accept: text/event-stream" : "Accept: application/json");
  h = curl_slist_append(h, "Expect:");
  if (!auth_header_.empty()) h = curl_slist_append(h, auth_header_.c_str());
  t->headers = h;
  curl_easy_setopt(e, CURLOPT_URL, t->url.c_str());
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
  // The body goes through a read callback so that send_ns marks when libcurl starts writing the request
  // (connection ready), not when the transfer was queued inside libcurl.
  curl_easy_setopt(e, CURLOPT_POST, 1L);
  curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t->payload.size()));
  curl_easy_setopt(e, CURLOPT_READFUNCTION, &OpenAiBackendImpl::on_read);
  curl_easy_setopt(e, CURLOPT_READDATA, t);
  // libcurl rewinds the body when it resends on a fresh connection (a reused one was closed by the server).
  curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, &OpenAiBackendImpl::on_seek);
  curl_easy_setopt(e, CURLOPT_SEEKDATA, t);
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(opt_.connect_timeout_s * 1000));
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &OpenAiBackendImpl::on_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &OpenAiBackendImpl::on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
  curl_easy_setopt(e, CURLOPT_PRIVATE, t);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->curl_error);
  // VERBOSE only routes events to on_debug (nothing is printed when a debug function is set).
  curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, &OpenAiBackendImpl::on_debug);
  curl_easy_setopt(e, CURLOPT_DEBUGDATA, t);
  curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
  ep.in_flight.fetch_add(1);
  ep.requests.fetch_add(1);
  CURLMcode mc = curl_multi_add_handle(multi_, e);
  if (mc != CURLM_OK) {
    detach(t);
    t->fail = ErrorInfo{"internal", std::string("curl_multi_add_handle failed: ") + curl_multi_strerror(mc)};
    return false;
  }
  if (next_watchdog_ns_ == 0 || next_watchdog_ns_ < monotonic_ns()) next_watchdog_ns_ = monotonic_ns() + 100'000'000;
  return true;
}

// Takes the easy handle out of the multi handle and frees it (the Transfer stays).
void OpenAiBackendImpl::detach(Transfer* t) {
  if (t->easy) {
    curl_multi_remove_handle(multi_, t->easy);
    curl_easy_cleanup(t->easy);
    t->easy = nullptr;
    endpoints_[t->endpoint].in_flight.fetch_sub(1);
  }
  if (t->headers) {
    curl_slist_free_all(t->headers);
    t->headers = nullptr;
  }
}

void OpenAiBackendImpl::process_done() {
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* easy = msg->easy_handle;
    CURLcode rc = msg->data.result;
    Transfer* found = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, reinterpret_cast<char**>(&found));
    if (!found || active_.count(found) == 0 || found->easy != easy) {
      curl_multi_remove_handle(multi_, easy);
      curl_easy_cleanup(easy);
      continue;
    }
    finish_attempt(found, rc);
  }
}

std::string OpenAiBackendImpl::http_error_message(const Transfer& t) const {
  std::string server = error_message_from_body(t.body);
  std::string base = "HTTP " + std::to_string(t.status) + " from " + t.url + (server.empty() ? "" : ": " + server);
  switch (t.status) {
    case 401:
    case 403:
      return base + "; the server rejected the credentials: put a valid API key in the environment variable " +
             opt_.api_key_env + (api_key_.empty() ? " (it is not set)" : " (it is set)");
    case 404:
      return base + "; check the URL path: the base URL must end with /v1 (e.g. http://127.0.0.1:8000/v1) and "
                    "the model name ('" + opt_.model_name + "') must be one the server serves (GET /v1/models)";
    case 400:
    case 422:
      return base + "; the server rejected the request: check --model-name and the sampling options";
    case 429:
      return base + "; the server is rate limiting: lower the concurrency or raise the server's limits";
    default:
      return base;
  }
}

void OpenAiBackendImpl::finish_attempt(Transfer* t, CURLcode rc) {
  auto it = active_.find(t);
  std::unique_ptr<Transfer> owned = std::move(it->second);
  active_.erase(it);
  if (t->status == 0 && t->easy) curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->status);
  std::string curl_msg = t->curl_error[0] ? std::string(t->curl_error) : std::string(curl_easy_strerror(rc));
  if (t->easy) {  // connection set-up of this attempt (TCP, and TLS when https), ~0 on a reused connection
    curl_off_t connect_us = 0, tls_us = 0;
    curl_easy_getinfo(t->easy, CURLINFO_CONNECT_TIME_T, &connect_us);
    curl_easy_getinfo(t->easy, CURLINFO_APPCONNECT_TIME_T, &tls_us);
    t->result.connect_ns = static_cast<int64_t>(std::max(connect_us, tls_us)) * 1000;
  }
  detach(t);
  int64_t now = monotonic_ns();
  t->result.end_ns = now;

  if (t->fail) {  // protocol error, error event, oversized body: the callback aborted the attempt
    ErrorInfo err = *t->fail;
    t->fail.reset();
    return retry_or_fail(std::move(owned), err, err.kind != "internal");
  }
  if (t->status == 0) {  // no response at all
    bool timed_out = rc == CURLE_OPERATION_TIMEDOUT;
    ErrorInfo err{timed_out ? "timeout" : "connect",
                  (timed_out ? "could not connect to " : "request to ") + t->url + " failed: " + curl_msg +
                      (timed_out ? " (connect timeout " + fmt::format("{:g}", opt_.connect_timeout_s) + " s)"
                                 : "; is the server running and is the URL right?")};
    return retry_or_fail(std::move(owned), err, true);
  }
  if (t->status < 200 || t->status >= 300) {
    ErrorInfo err{"http_" + std::to_string(t->status), http_error_message(*t)};
    bool retryable = t->status == 429 || t->status == 408 || t->status >= 500;
    return retry_or_fail(std::move(owned), err, retryable);
  }
  if (t->event_stream) {
    t->sse.finish();
    handle_events(t, now);
    if (t->fail) {
      ErrorInfo err = *t->fail;
      t->fail.reset();
      return retry_or_fail(std::move(owned), err, err.kind != "internal");
    }
    if (t->saw_done || !t->result.finish_reason.empty()) return complete(std::move(owned));
    ErrorInfo err{"truncated", "the stream from " + t->url + " ended after " + std::to_string(t->result.chunks.size()) +
                                   " token chunks without a finish_reason or [DONE] (" +
                                   (rc == CURLE_OK ? std::string("the server closed it cleanly") : "curl: " + curl_msg) +
                                   "); the partial text is kept"};
    return retry_or_fail(std::move(owned), err, true);
  }
  // A whole JSON body (stream=false, or a server that ignored stream=true).
  if (rc != CURLE_OK) {
    ErrorInfo err{"truncated", "the response from " + t->url + " was cut: " + curl_msg};
    return retry_or_fail(std::move(owned), err, true);
  }
  std::string why;
  if (!parse_response(t->body, now, t->result, why)) {
    ErrorInfo err{"protocol", scrub(why + " (from " + t->url + ")")};
    return retry_or_fail(std::move(owned), err, true);
  }
  complete(std::move(owned));
}

double OpenAiBackendImpl::backoff_s(int attempt) {
  double cap = std::min(opt_.backoff_max_s, opt_.backoff_base_s * std::pow(2.0, std::max(0, attempt - 1)));
  std::uniform_real_distribution<double> u(0.0, std::max(0.0, cap));
  return u(rng_);
}

void OpenAiBackendImpl::close_attempt(Transfer* t, const std::string& kind, const std::string& message) {
  if (!t->attempt_open) return;
  t->attempt_open = false;
  AttemptInfo a;
  a.kind = kind;
  a.start_ns = t->attempt_start_ns;
  a.end_ns = monotonic_ns();
  a.http_status = t->status;
  a.bytes_received = t->attempt_bytes;
  a.request_sent = t->requests_on_handle > 0;
  a.endpoint = endpoints_[t->endpoint].display;
  a.message = scrub(message);
  t->result.attempt_log.push_back(std::move(a));
  t->attempt_bytes = 0;
}

// Every failure is retried from the start as a new attempt (a dropped or stalled stream, an undecodable
// event and an error event included: a partial answer is never graded), except errors that cannot heal:
// 400/401/403/404/422, internal errors. Only the last attempt's text and timings are kept.
void OpenAiBackendImpl::retry_or_fail(std::unique_ptr<Transfer> t, ErrorInfo error, bool retryable) {
  endpoints_[t->endpoint].errors.fetch_add(1);
  close_attempt(t.get(), error.kind, error.message);
  if (retryable && t->result.attempts < opt_.max_attempts) {
    double delay = t->retry_after_s >= 0 ? t->retry_after_s : backoff_s(t->result.attempts);
    log_debug("openai: attempt {} of request '{}' failed ({}); retrying in {:.2f} s", t->result.attempts,
              t->request.id, error.kind, delay);
    int64_t due = monotonic_ns() + static_cast<int64_t>(delay * 1e9);
    t->retry_due_ns = due;
    retrying_.emplace(due, std::move(t));
    return;
  }
  if (t->result.attempts > 1) error.message += " (after " + std::to_string(t->result.attempts) + " attempts)";
  error.message = scrub(std::move(error.message));
  t->result.error = std::move(error);
  complete(std::move(t));
}

void OpenAiBackendImpl::complete(std::unique_ptr<Transfer> t) {
  if (t->result.end_ns == 0) t->result.end_ns = monotonic_ns();
  close_attempt(t.get(), t->result.error ? t->result.error->kind : "ok",
                t->result.error ? t->result.error->message : "");
  ResultCallback done = std::move(t->done);
  GenerationResult result = std::move(t->result);
  t.reset();
  if (!done) return;
  try {
    done(std::move(result));
  } catch (const std::exception& e) {
    log_error("openai backend: a result callback threw: {}", e.what());
  } catch (...) {
    log_error("openai backend: a result callback threw a non-standard exception");
  }
}

void OpenAiBackendImpl::watchdog(int64_t now) {
  next_watchdog_ns_ = now + std::min<int64_t>(100'000'000, static_cast<int64_t>(opt_.idle_timeout_s * 0.25e9) + 1);
  const int64_t limit = static_cast<int64_t>(opt_.idle_timeout_s * 1e9);
  std::vector<Transfer*> stalled;
  for (auto& [raw, owned] : active_)
    if (now - raw->last_activity_ns > limit) stalled.push_back(raw);
  for (Transfer* t : stalled) {
    auto it = active_.find(t);
    std::unique_ptr<Transfer> owned = std::move(it->second);
    active_.erase(it);
    detach(t);
    t->result.end_ns = now;
    std::string what = t->result.first_byte_ns == 0 ? "no response" : "no bytes";
    ErrorInfo err{"timeout", what + " from " + t->url + " for " + fmt::format("{:g}", opt_.idle_timeout_s) +
                                 " s (idle timeout) after " + std::to_string(t->result.chunks.size()) +
                                 " token chunks; the server stalled: raise the idle timeout if it is only slow"};
    retry_or_fail(std::move(owned), err, true);
  }
}

void OpenAiBackendImpl::cancel_everything(const std::string& why) {
  std::vector<std::unique_ptr<Transfer>> all;
  for (auto& [raw, owned] : active_) {
    detach(raw);
    all.push_back(std::move(owned));
  }
  active_.clear();
  for (auto& t : queued_) all.push_back(std::move(t));
  queued_.clear();
  for (auto& [due, t] : retrying_) all.push_back(std::move(t));
  retrying_.clear();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& t : incoming_) all.push_back(std::move(t));
    incoming_.clear();
  }
  for (auto& t : all) {
    t->result.error = ErrorInfo{"cancelled", "request '" + t->request.id + "' was cancelled: " + why};
    complete(std::move(t));
  }
}

std::string OpenAiBackendImpl::scrub(std::string text) const {
  text = redact_credentials(text);
  if (api_key_.size() < 4) return text;
  size_t pos = 0;
  while ((pos = text.find(api_key_, pos)) != std::string::npos) {
    text.replace(pos, api_key_.size(), "***");
    pos += 3;
  }
  return text;
}

}  // namespace

void check_base_url(const std::string& url) {
  std::string shown = redact_credentials(url);
  auto bad = [&](const std::string& what) {
    throw Error(ErrorCode::usage, "openai backend: base URL '" + shown + "' " + what + " (e.g. http://127.0.0.1:8000/v1)");
  };
  size_t scheme = starts_with(url, "http://") ? 7 : starts_with(url, "https://") ? 8 : 0;
  if (scheme == 0) bad("must start with http:// or https://");
  size_t end = url.find_first_of("/?#", scheme);
  std::string authority = url.substr(scheme, end == std::string::npos ? std::string::npos : end - scheme);
  if (size_t at = authority.rfind('@'); at != std::string::npos) authority = authority.substr(at + 1);
  size_t host_end = 0;
  if (!authority.empty() && authority[0] == '[') {  // an IPv6 literal
    host_end = authority.find(']');
    if (host_end == std::string::npos) bad("has an unterminated IPv6 address");
    ++host_end;
  } else {
    host_end = std::min(authority.find(':'), authority.size());
  }
  if (host_end == 0) bad("names no host");
  if (host_end == authority.size()) return;
  if (authority[host_end] != ':') bad("has text after the host");
  std::string port = authority.substr(host_end + 1);
  if (port.empty()) bad("has an empty port after ':'; give the port (1-65535) or remove the ':'");
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos || std::stol(port) < 1 ||
      std::stol(port) > 65535)
    bad("has port '" + port + "', which is not a number in 1-65535");
}

std::unique_ptr<Backend> make_openai_backend(const OpenAiOptions& options) {
  if (options.base_urls.empty())
    throw Error(ErrorCode::usage, "openai backend: no base URL given; use --model openai:http://HOST:PORT/v1");
  for (const auto& url : options.base_urls) {
    check_base_url(url);
    if (!ends_with(strip_slash(url), "/v1"))
      log_warn("openai backend: base URL '{}' does not end with /v1; requests go to {}/chat/completions",
               redact_credentials(url), redact_credentials(strip_slash(url)));
  }
  if (options.model_name.empty())
    throw Error(ErrorCode::usage, "openai backend: no model name; pass --model-name NAME (as the server lists it in /v1/models)");
  if (options.max_in_flight < 1)
    throw Error(ErrorCode::usage, "openai backend: max_in_flight " + std::to_string(options.max_in_flight) + " must be >= 1");
  if (options.max_attempts < 1)
    throw Error(ErrorCode::usage, "openai backend: max_attempts " + std::to_string(options.max_attempts) + " must be >= 1");
  if (!(options.connect_timeout_s > 0) || !(options.idle_timeout_s > 0) || !std::isfinite(options.connect_timeout_s) ||
      !std::isfinite(options.idle_timeout_s))
    throw Error(ErrorCode::usage, "openai backend: timeouts must be > 0 seconds");
  return std::make_unique<OpenAiBackendImpl>(options);
}

}  // namespace hb::openai
