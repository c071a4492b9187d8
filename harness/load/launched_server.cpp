#include "harness/load/launched_server.h"

#include <curl/curl.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <boost/process.hpp>
#include <fmt/format.h>

#include "harness/base/clock.h"
#include "harness/base/console.h"
#include "harness/base/error.h"
#include "harness/base/strings.h"

namespace hb::load {
namespace bp = boost::process;

struct LaunchedServer::Impl {
  bp::group group;
  std::unique_ptr<bp::child> child;
  bool stopped = false;
};

namespace {

size_t discard(char*, size_t size, size_t nmemb, void*) { return size * nmemb; }

// GET url; the HTTP status, or 0 when no answer came.
long http_get_status(const std::string& url) {
  CURL* e = curl_easy_init();
  if (!e) return 0;
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 2000L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &discard);
  long status = 0;
  if (curl_easy_perform(e) == CURLE_OK) curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(e);
  return status;
}

std::string origin_of(const std::string& url) {
  auto scheme = url.find("://");
  auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return slash == std::string::npos ? url : url.substr(0, slash);
}

}  // namespace

LaunchedServer::LaunchedServer(LaunchOptions options) : opt_(std::move(options)), impl_(std::make_unique<Impl>()) {
  if (opt_.command.empty()) throw Error(ErrorCode::usage, "--model launch: needs a command, e.g. launch:'vllm serve MODEL --port 8000'");
  if (!starts_with(opt_.url, "http://") && !starts_with(opt_.url, "https://"))
    throw Error(ErrorCode::usage, "--launch-url '" + opt_.url + "' must be the server's base URL, e.g. http://127.0.0.1:8000/v1");
}

LaunchedServer::~LaunchedServer() {
  try {
    stop();
  } catch (...) {
  }
}

int LaunchedServer::pid() const { return impl_->child ? impl_->child->id() : 0; }

bool LaunchedServer::running() const {
  if (!impl_->child) return false;
  std::error_code ec;
  return impl_->child->running(ec);
}

std::string LaunchedServer::log_tail(int lines) const {
  std::ifstream f(opt_.log_path);
  std::vector<std::string> all;
  std::string line;
  while (std::getline(f, line)) all.push_back(line);
  size_t from = all.size() > static_cast<size_t>(lines) ? all.size() - static_cast<size_t>(lines) : 0;
  std::string out;
  for (size_t i = from; i < all.size(); ++i) out += "\n    | " + all[i];
  return out.empty() ? "\n    | (the log is empty)" : out;
}

void LaunchedServer::start() {
  log_info("launch: starting `{}` (log: {})", opt_.command, opt_.log_path);
  try {
    impl_->child = std::make_unique<bp::child>(bp::search_path("sh"), "-c", opt_.command, bp::std_in < bp::null,
                                               (bp::std_out & bp::std_err) > opt_.log_path, impl_->group);
  } catch (const std::exception& e) {
    throw Error(ErrorCode::usage, "launch: cannot start `" + opt_.command + "`: " + e.what());
  }
  std::string base = opt_.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  const std::vector<std::string> probes = {origin_of(base) + "/health", base + "/models"};
  const int64_t deadline = monotonic_ns() + static_cast<int64_t>(opt_.ready_timeout_s * 1e9);
  for (;;) {
    if (!running()) {
      int code = impl_->child->exit_code();
      throw Error(ErrorCode::network, fmt::format("launch: `{}` exited with code {} before it became healthy; its last "
                                                  "log lines ({}):{}",
                                                  opt_.command, code, opt_.log_path, log_tail()));
    }
    for (const auto& url : probes) {
      if (http_get_status(url) == 200) {
        log_info("launch: server healthy at {} (pid {})", url, pid());
        return;
      }
    }
    if (monotonic_ns() > deadline) {
      std::string tail = log_tail();
      stop();
      throw Error(ErrorCode::network,
                  fmt::format("launch: `{}` did not answer {} or {} with 200 within {:g} s (raise --launch-timeout if it "
                              "loads slowly); its last log lines ({}):{}",
                              opt_.command, probes[0], probes[1], opt_.ready_timeout_s, opt_.log_path, tail));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

void LaunchedServer::check_alive() const {
  if (impl_->child && !impl_->stopped && !running())
    throw Error(ErrorCode::network, fmt::format("launch: the server `{}` died during the run (exit code {}); its last "
                                                "log lines ({}):{}",
                                                opt_.command, impl_->child->exit_code(), opt_.log_path, log_tail()));
}

void LaunchedServer::stop() {
  if (!impl_->child || impl_->stopped) return;
  impl_->stopped = true;
  std::error_code ec;
  if (impl_->group.valid() && running()) {
    ::kill(-static_cast<pid_t>(impl_->group.native_handle()), SIGTERM);
    const int64_t deadline = monotonic_ns() + static_cast<int64_t>(opt_.stop_grace_s * 1e9);
    while (running() && monotonic_ns() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (running()) {
      log_warn("launch: the server did not stop within {:g} s of SIGTERM; sending SIGKILL", opt_.stop_grace_s);
      impl_->group.terminate(ec);
    }
  }
  impl_->child->wait(ec);
  log_info("launch: server stopped");
}

}  // namespace hb::load
