#include "suites/math500/math500_suite.h"

#include "datasets/catalog.h"
#include "harness/base/error.h"
#include "harness/base/files.h"
#include "suites/common/completion_text.h"
#include "suites/math/latex_normalize.h"
#include "suites/math/math_extract.h"
#include "suites/math/math_grade.h"
#include "suites/math500/math500_prompts.h"

namespace hb::suites {
namespace {

namespace P = math500_prompts;
constexpr const char* kVersion = "2";  // 2: whole-text extraction, truncation rule

std::string fill(std::string tmpl, const std::string& problem) {
  math::replace_all(tmpl, "{problem}", problem);
  return tmpl;
}

class Math500Suite : public Suite {
 public:
  explicit Math500Suite(const SuiteOptions& options) : options_(options) {
    std::string variant = options.variant.empty() ? "chat" : options.variant;
    if (variant != "chat" && variant != "minerva4")
      throw Error(ErrorCode::usage, "math500 has no prompt variant '" + variant + "'; variants: chat, minerva4");
    info_.name = "math500";
    info_.variant = variant;
    info_.version = kVersion;
    info_.metrics = {"accuracy"};
    info_.default_sampling.temperature = 0.0;
    info_.default_sampling.max_tokens = variant == "chat" ? 32768 : 1024;
    if (variant == "minerva4") info_.default_sampling.stop = {P::kMinervaStop};
    priority_ = variant == "chat" ? std::vector<std::string>{"boxed", "minerva", "answer_line", "math_span", "last_number"}
                                  : std::vector<std::string>{"minerva", "boxed", "answer_line", "math_span", "last_number"};
  }

  const SuiteInfo& info() const override { return info_; }

  std::vector<Item> load(const datasets::Catalog& catalog) const override {
    std::vector<Item> items;
    std::string path = catalog.path("math500/test.jsonl");
    for_each_jsonl(path, [&](size_t line, const nlohmann::json& j) {
      if (!j.contains("problem") || !j.contains("answer") || !j.contains("unique_id"))
        throw Error(ErrorCode::data, path + ":" + std::to_string(line) +
                                         ": missing 'problem', 'answer' or 'unique_id'; re-fetch with `hybench datasets fetch`");
      items.push_back({j.at("unique_id").get<std::string>(), j});
    });
    return items;
  }

  PromptPlan prompt(const Item& item) const override {
    PromptPlan plan;
    const std::string problem = item.fields.at("problem").get<std::string>();
    if (info_.variant == "chat") {
      plan.user_turns.push_back(fill(P::kChatTemplate, problem));
    } else {
      std::string text;
      for (const auto& ex : P::kMinervaExemplars)
        text += fill(P::kMinervaQuery, ex.problem) + "\n" + ex.solution + "\n\n";
      text += fill(P::kMinervaQuery, problem);
      plan.raw_prompt = text;
      plan.stop = {P::kMinervaStop};
    }
    return plan;
  }

  Grade grade(const Item& item, const Completion& completion, ScoringContext&) const override {
    Grade g;
    AnswerText t = prepare_grade(g, completion, options_.reasoning_markers);
    const std::string gold = item.fields.at("answer").get<std::string>();
    if (t.unterminated) {
      g.scores["accuracy"] = 0.0;
      g.reason = "truncated: the reasoning block was never closed, so there is no answer";
      note_truncation(g);
      return g;
    }
    math::MathGrade m = math::grade_math_answer(gold, t.answer, priority_);
    g.extractions = std::move(m.extractions);
    g.scores["accuracy"] = m.verdict.equal ? 1.0 : 0.0;
    g.reason = (m.chosen.empty() ? std::string() : m.chosen + ": ") + m.verdict.reason +
               (g.truncated ? " (cut by the token limit)" : "");
    apply_truncation_rule(g, "accuracy", math::is_explicit_answer(m.chosen));
    return g;
  }

 protected:
  nlohmann::json prompt_fingerprint() const override {
    nlohmann::json ex = nlohmann::json::array();
    for (const auto& e : P::kMinervaExemplars) ex.push_back({e.problem, e.solution});
    return {{"chat", P::kChatTemplate}, {"minerva_query", P::kMinervaQuery}, {"minerva_exemplars", ex}};
  }

 private:
  SuiteOptions options_;
  SuiteInfo info_;
  std::vector<std::string> priority_;
};

}  // namespace

std::unique_ptr<Suite> make_math500_suite(const SuiteOptions& options) {
  return std::make_unique<Math500Suite>(options);
}

}  // namespace hb::suites
