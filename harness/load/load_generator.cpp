#include "harness/load/load_generator.h"

#include <sys/resource.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "harness/base/clock.h"
#include "harness/load/schedule.h"

namespace hb::load {

double process_cpu_s() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

namespace {

struct Shared {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<RequestTrace> traces;  // deque: references stay valid while it grows
  int dispatched = 0;
  int completed = 0;
  int errors = 0;
  int64_t last_end_ns = 0;
};

void sleep_until_ns(int64_t t_ns) {
  for (;;) {
    int64_t now = monotonic_ns();
    if (now >= t_ns) return;
    int64_t left = t_ns - now;
    // Sleep most of the way, then yield-spin the last 200 us for an accurate dispatch time.
    if (left > 300'000) std::this_thread::sleep_for(std::chrono::nanoseconds(left - 200'000));
    else std::this_thread::yield();
  }
}

}  // namespace

PointRun run_point(Backend& backend, const Workload& workload, const PointPlan& plan, const ProgressFn& progress) {
  Shared s;
  const bool by_duration = plan.duration_s > 0;
  const int total = plan.warmup + std::max(0, plan.requests);
  PointRun run;
  const double cpu0 = process_cpu_s();

  auto submit = [&](int index, int64_t scheduled_ns, GenerationRequest req) {
    RequestTrace* trace = nullptr;
    {
      std::lock_guard<std::mutex> lock(s.mu);
      s.traces.emplace_back();
      trace = &s.traces.back();
      trace->index = index;
      trace->warmup = index < plan.warmup;
      trace->scheduled_ns = scheduled_ns;
      ++s.dispatched;
    }
    trace->dispatch_ns = monotonic_ns();
    if (run.start_ns == 0) run.start_ns = trace->dispatch_ns;
    backend.submit(std::move(req), [&s, trace](GenerationResult r) {
      std::lock_guard<std::mutex> lock(s.mu);
      trace->result = std::move(r);
      ++s.completed;
      if (!trace->result.ok()) ++s.errors;
      s.last_end_ns = std::max(s.last_end_ns, trace->result.end_ns);
      s.cv.notify_all();
    });
  };

  int64_t measure_start = 0;  // when the first measured (non-warm-up) request goes out
  auto may_dispatch = [&](int index) {
    if (index < plan.warmup) return true;
    if (by_duration) {
      if (measure_start == 0) return true;
      return monotonic_ns() - measure_start < static_cast<int64_t>(plan.duration_s * 1e9) &&
             (plan.requests <= 0 || index < total);
    }
    return index < total;
  };
  auto last_progress = monotonic_ns();
  auto report = [&](bool force) {
    if (!progress) return;
    int64_t now = monotonic_ns();
    if (!force && now - last_progress < 200'000'000) return;
    last_progress = now;
    int c, d, e;
    {
      std::lock_guard<std::mutex> lock(s.mu);
      c = s.completed;
      d = s.dispatched;
      e = s.errors;
    }
    progress(c, d, e);
  };

  if (plan.load.kind == LoadKind::concurrency) {
    const int n = static_cast<int>(plan.load.value);
    int index = 0;
    GenerationRequest next = workload.request(0);  // prompts are built before a slot frees, not after
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(s.mu);
        s.cv.wait_for(lock, std::chrono::milliseconds(200), [&] { return s.dispatched - s.completed < n; });
        if (s.dispatched - s.completed >= n) {
          lock.unlock();
          report(false);
          continue;
        }
      }
      if (!may_dispatch(index)) break;
      if (index == plan.warmup) measure_start = monotonic_ns();
      submit(index, monotonic_ns(), std::move(next));
      ++index;
      next = workload.request(index);
      report(false);
    }
  } else {
    int n = by_duration ? plan.warmup + requests_for_duration(plan.load.value, plan.duration_s) : total;
    if (by_duration && plan.requests > 0) n = std::min(n, total);
    auto schedule = arrival_schedule(n, plan.load.value, plan.load.burstiness, plan.seed);
    const int64_t t0 = monotonic_ns();
    for (int index = 0; index < n; ++index) {
      int64_t due = t0 + schedule[static_cast<size_t>(index)];
      GenerationRequest req = workload.request(index);
      sleep_until_ns(due);
      submit(index, due, std::move(req));
      report(false);
    }
  }
  for (;;) {
    std::unique_lock<std::mutex> lock(s.mu);
    if (s.cv.wait_for(lock, std::chrono::milliseconds(200), [&] { return s.completed == s.dispatched; })) break;
    lock.unlock();
    report(false);
  }
  report(true);
  run.cpu_s = process_cpu_s() - cpu0;
  std::lock_guard<std::mutex> lock(s.mu);
  run.end_ns = s.last_end_ns;
  run.traces.reserve(s.traces.size());
  for (auto& t : s.traces) run.traces.push_back(std::move(t));
  return run;
}

}  // namespace hb::load
