#include "suites/aime/aime_suite.h"

#include <cctype>

#include "datasets/catalog.h"
#include "harness/base/error.h"
#include "harness/base/files.h"
#include "harness/base/strings.h"
#include "suites/common/completion_text.h"
#include "suites/common/sampling_metrics.h"
#include "suites/math/latex_normalize.h"
#include "suites/math/math_extract.h"

namespace hb::suites {
namespace {

constexpr const char* kVersion = "2";  // 2: whole-text extraction, truncation rule
constexpr const char* kChatTemplate =
    "{problem}\n\nPlease reason step by step, and put your final answer within \\boxed{}. The answer is an integer "
    "between 0 and 999 inclusive.";
const std::vector<std::string> kPriority = {"boxed", "minerva", "answer_line", "math_span", "last_number"};

class AimeSuite : public Suite {
 public:
  AimeSuite(const SuiteOptions& options, std::string name, std::string file, std::string id_field)
      : options_(options), file_(std::move(file)), id_field_(std::move(id_field)) {
    std::string variant = options.variant.empty() ? "chat" : options.variant;
    if (variant != "chat") throw Error(ErrorCode::usage, name + " has no prompt variant '" + variant + "'; variants: chat");
    info_.name = std::move(name);
    info_.variant = variant;
    info_.version = kVersion;
    info_.metrics = {"accuracy"};
    info_.default_sampling.temperature = 0.6;
    info_.default_sampling.top_p = 0.95;
    info_.default_sampling.max_tokens = 32768;
    info_.default_samples = 16;
  }

  const SuiteInfo& info() const override { return info_; }

  std::vector<Item> load(const datasets::Catalog& catalog) const override {
    std::vector<Item> items;
    std::string path = catalog.path(file_);
    for_each_jsonl(path, [&](size_t line, const nlohmann::json& j) {
      if (!j.contains("problem") || !j.contains("answer") || !j.contains(id_field_))
        throw Error(ErrorCode::data, path + ":" + std::to_string(line) + ": missing 'problem', 'answer' or '" +
                                         id_field_ + "'; re-fetch with `hybench datasets fetch`");
      const auto& id = j.at(id_field_);
      items.push_back({id.is_string() ? id.get<std::string>() : id.dump(), j});
    });
    return items;
  }

  PromptPlan prompt(const Item& item) const override {
    PromptPlan plan;
    std::string text = kChatTemplate;
    math::replace_all(text, "{problem}", item.fields.at("problem").get<std::string>());
    plan.user_turns.push_back(text);
    return plan;
  }

  Grade grade(const Item& item, const Completion& completion, ScoringContext&) const override {
    Grade g;
    AnswerText t = prepare_grade(g, completion, options_.reasoning_markers);
    const auto& gold_field = item.fields.at("answer");
    std::string gold_text = gold_field.is_string() ? gold_field.get<std::string>() : gold_field.dump();
    auto gold = aime_integer(gold_text);
    if (!gold) throw Error(ErrorCode::data, info_.name + " item " + item.id + ": gold '" + gold_text + "' is not an integer in 0..999");
    if (t.unterminated) {
      g.scores["accuracy"] = 0.0;
      g.reason = "truncated: the reasoning block was never closed, so there is no answer";
      note_truncation(g);
      return g;
    }
    std::vector<Extraction> all = math::extract_math_answers(t.answer);
    for (const auto& name : kPriority)
      for (const auto& e : all)
        if (e.name == name) g.extractions.push_back(e);
    for (const auto& e : g.extractions) {
      if (!e.value) continue;
      auto v = aime_integer(*e.value);
      if (!v) {
        g.scores["accuracy"] = 0.0;
        g.reason = e.name + ": '" + e.value->substr(0, 40) + "' is not an integer in 0..999";
        apply_truncation_rule(g, "accuracy", math::is_explicit_answer(e.name));
        return g;
      }
      g.scores["answer"] = *v;  // for maj@K (not a metric)
      g.scores["accuracy"] = *v == *gold ? 1.0 : 0.0;
      g.reason = e.name + ": " + std::to_string(*v) + (*v == *gold ? " equals" : " differs from") + " gold " +
                 std::to_string(*gold) + (g.truncated ? " (cut by the token limit)" : "");
      apply_truncation_rule(g, "accuracy", math::is_explicit_answer(e.name));
      return g;
    }
    g.scores["accuracy"] = 0.0;
    g.reason = std::string("no answer found") + (g.truncated ? " (cut by the token limit)" : "");
    note_truncation(g);
    return g;
  }

  std::vector<MetricValue> aggregate(const std::vector<SampleScore>& samples) const override {
    std::vector<MetricValue> out = Suite::aggregate(samples);
    add_avg_at_k(samples, "accuracy", out);
    add_pass_at_k(samples, "accuracy", out);
    add_majority(samples, "accuracy", "answer", out);
    return out;
  }

 protected:
  nlohmann::json prompt_fingerprint() const override { return {{"chat", kChatTemplate}}; }

 private:
  SuiteOptions options_;
  SuiteInfo info_;
  std::string file_;
  std::string id_field_;
};

}  // namespace

std::optional<int> aime_integer(std::string_view text) {
  if (text.size() > 200) return std::nullopt;  // no integer 0..999 needs more, whatever the markup
  math::NormalizedAnswer n = math::normalize_latex(text);
  std::string s = n.text;
  // "x = 25" / "n=25": keep what follows the last '='.
  if (auto eq = s.rfind('='); eq != std::string::npos) s = std::string(trim(s.substr(eq + 1)));
  std::string digits;
  for (char c : s)
    if (c != ' ' && c != ',') digits += c;
  // "73.0" and "73." are integers; "73.5" is not.
  if (auto dot = digits.find('.'); dot != std::string::npos) {
    for (size_t i = dot + 1; i < digits.size(); ++i)
      if (digits[i] != '0') return std::nullopt;
    digits = digits.substr(0, dot);
  }
  if (digits.empty() || digits.size() > 6) return std::nullopt;
  for (char c : digits)
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  int v = std::stoi(digits);
  if (v < 0 || v > 999) return std::nullopt;
  return v;
}

std::unique_ptr<Suite> make_aime24_suite(const SuiteOptions& options) {
  return std::make_unique<AimeSuite>(options, "aime24", "aime24/test.jsonl", "id");
}
std::unique_ptr<Suite> make_aime25_suite(const SuiteOptions& options) {
  return std::make_unique<AimeSuite>(options, "aime25", "aime25/aime25.json", "id");
}

}  // namespace hb::suites
