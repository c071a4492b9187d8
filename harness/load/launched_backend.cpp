#include "harness/load/launched_backend.h"

#include "harness/base/clock.h"
#include "harness/base/console.h"

namespace hb::load {
namespace {

class LaunchedBackend final : public Backend {
 public:
  LaunchedBackend(std::unique_ptr<LaunchedServer> server, std::unique_ptr<Backend> inner)
      : server_(std::move(server)), inner_(std::move(inner)) {}
  ~LaunchedBackend() override {
    inner_.reset();  // completes or cancels what is in flight first
    server_->stop();
  }
  BackendInfo describe() const override {
    BackendInfo info = inner_->describe();
    const auto& o = server_->options();
    info.details["launch"] = {{"command", o.command}, {"url", o.url}, {"log", o.log_path}, {"pid", server_->pid()}};
    info.kind = "launch";
    info.spec = "launch:" + o.command;
    return info;
  }
  void submit(GenerationRequest request, ResultCallback done) override {
    if (!server_->running()) {
      GenerationResult r;
      r.submit_ns = r.end_ns = monotonic_ns();
      r.error = ErrorInfo{"server_died", "the launched server `" + server_->options().command +
                                             "` is not running; its last log lines:" + server_->log_tail(10)};
      try {
        done(std::move(r));
      } catch (...) {
        log_error("launch: a result callback threw");
      }
      return;
    }
    inner_->submit(std::move(request), std::move(done));
  }
  void cancel_all() override { inner_->cancel_all(); }

 private:
  std::unique_ptr<LaunchedServer> server_;
  std::unique_ptr<Backend> inner_;
};

}  // namespace

std::unique_ptr<Backend> make_launched_backend(std::unique_ptr<LaunchedServer> server, std::unique_ptr<Backend> inner) {
  return std::make_unique<LaunchedBackend>(std::move(server), std::move(inner));
}

}  // namespace hb::load
