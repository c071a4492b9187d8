#pragma once
// An LLM judge for judged suites (MT-Bench). Synchronous: one call sends one conversation and returns the
// judge's reply or an error. The runner implements it over a Backend (temperature 0); tests use fakes.
// Implementations must be safe to call from several threads at once.
#include <optional>
#include <string>
#include <vector>

#include "harness/backends/backend.h"  // ChatMessage

namespace hb::suites {

struct JudgeReply {
  std::optional<std::string> text;  // the judge's answer (content channel); nullopt when the call failed
  std::string reasoning;            // the judge's reasoning channel, if any
  std::string error;                // why the call failed ("" when text is set)
};

class Judge {
 public:
  virtual ~Judge() = default;
  virtual JudgeReply judge(const std::vector<ChatMessage>& messages) = 0;
  // The judge model id as stored with the results ("gpt-4", "Qwen/Qwen2.5-72B-Instruct").
  virtual std::string model_id() const = 0;
};

}  // namespace hb::suites
