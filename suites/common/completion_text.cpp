#include "suites/common/completion_text.h"

#include "suites/common/reasoning.h"

namespace hb::suites {

AnswerText answer_text(const Completion& completion, size_t turn, const std::vector<std::string>& markers) {
  AnswerText out;
  if (turn >= completion.turns.size()) return out;
  ReasoningSplit split = split_reasoning(completion.turns[turn], markers);
  out.answer = split.answer;
  out.reasoning = split.reasoning;
  if (turn < completion.reasoning.size() && !completion.reasoning[turn].empty())
    out.reasoning = completion.reasoning[turn] + (out.reasoning.empty() ? "" : "\n" + out.reasoning);
  out.unterminated = split.unterminated;
  out.truncated = split.unterminated ||
                  (turn < completion.finish_reasons.size() && completion.finish_reasons[turn] == "length");
  return out;
}

AnswerText prepare_grade(Grade& g, const Completion& completion, const std::vector<std::string>& markers) {
  size_t last = completion.turns.empty() ? 0 : completion.turns.size() - 1;
  AnswerText t = answer_text(completion, last, markers);
  g.answer_text = t.answer;
  g.reasoning_text = t.reasoning;
  g.truncated = t.truncated;
  return t;
}

void note_truncation(Grade& g) { g.scores["truncated"] = g.truncated ? 1.0 : 0.0; }

void apply_truncation_rule(Grade& g, const std::string& metric, bool explicit_answer) {
  note_truncation(g);
  if (!g.truncated || explicit_answer) return;
  auto it = g.scores.find(metric);
  if (it == g.scores.end()) return;
  const bool fallback_correct = it->second > 0;
  it->second = 0.0;
  g.reason = std::string("cut by the token limit without an explicit final answer: not counted (the fallback ") +
             (fallback_correct ? "would be correct" : "is wrong anyway") + ": " + g.reason + ")";
}

}  // namespace hb::suites
