#pragma once
// A fixed pool of worker threads for grading tasks. Tasks must not throw (the runner wraps them).
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace hb::runner {

class GradePool {
 public:
  explicit GradePool(size_t threads);
  ~GradePool();  // finishes queued tasks, then joins
  void submit(std::function<void()> task);
  void wait_idle();
  size_t pending() const;

 private:
  void loop();
  mutable std::mutex mu_;
  std::condition_variable cv_, idle_cv_;
  std::deque<std::function<void()>> tasks_;
  size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace hb::runner
