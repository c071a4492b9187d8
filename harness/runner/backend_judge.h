#pragma once
// A suites::Judge over any Backend: one synchronous request per judgment, temperature 0. Safe to call from
// several grading threads at once (each call waits on its own result).
#include <memory>
#include <string>

#include "harness/backends/backend.h"
#include "suites/common/judge.h"

namespace hb::runner {

class BackendJudge : public suites::Judge {
 public:
  BackendJudge(std::unique_ptr<Backend> backend, std::string model_id, int max_tokens = 2048);
  suites::JudgeReply judge(const std::vector<ChatMessage>& messages) override;
  std::string model_id() const override { return model_id_; }

 private:
  std::unique_ptr<Backend> backend_;
  std::string model_id_;
  int max_tokens_;
};

}  // namespace hb::runner
