#include "harness/runner/backend_judge.h"

#include <future>

namespace hb::runner {

BackendJudge::BackendJudge(std::unique_ptr<Backend> backend, std::string model_id, int max_tokens)
    : backend_(std::move(backend)), model_id_(std::move(model_id)), max_tokens_(max_tokens) {}

suites::JudgeReply BackendJudge::judge(const std::vector<ChatMessage>& messages) {
  GenerationRequest req;
  req.id = "judge";
  req.messages = messages;
  req.sampling.temperature = 0.0;
  req.sampling.max_tokens = max_tokens_;
  auto promise = std::make_shared<std::promise<GenerationResult>>();
  auto future = promise->get_future();
  backend_->submit(std::move(req), [promise](GenerationResult r) { promise->set_value(std::move(r)); });
  GenerationResult r = future.get();
  suites::JudgeReply reply;
  if (!r.ok()) {
    reply.error = r.error->kind + ": " + r.error->message;
    return reply;
  }
  reply.text = r.content;
  reply.reasoning = r.reasoning;
  return reply;
}

}  // namespace hb::runner
