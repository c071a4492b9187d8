#include "suites/gsm8k/gsm8k_suite.h"

#include "datasets/catalog.h"
#include "harness/base/error.h"
#include "harness/base/files.h"
#include "harness/base/strings.h"
#include "suites/common/number_normalize.h"
#include "suites/common/reasoning.h"

namespace hb::suites {
namespace {

// Prompt templates are data: changing one means bumping kVersion.
constexpr const char* kVersion = "1";
constexpr const char* kChatInstruction =
    "Solve the following math problem step by step. At the end, write the final answer on its own line "
    "in the form \"#### <number>\" with nothing after it.\n\nProblem: ";
constexpr const char* kCotQuestionPrefix = "Question: ";
// Train-split line numbers (0-based) of the eight fixed chain-of-thought exemplars.
constexpr int kCotExemplarLines[8] = {0, 1, 2, 3, 4, 5, 6, 7};

// Removes the calculator annotations "<<48/2=24>>" from a GSM8K reference solution.
std::string strip_calculator_annotations(std::string_view s) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    size_t open = s.find("<<", i);
    if (open == std::string_view::npos) break;
    size_t close = s.find(">>", open + 2);
    if (close == std::string_view::npos) break;
    out.append(s.substr(i, open - i));
    i = close + 2;
  }
  out.append(s.substr(i));
  return out;
}

class Gsm8kSuite : public Suite {
 public:
  explicit Gsm8kSuite(const SuiteOptions& options) : options_(options) {
    std::string variant = options.variant.empty() ? "chat" : options.variant;
    if (variant != "chat" && variant != "cot8")
      throw Error(ErrorCode::usage, "gsm8k has no prompt variant '" + variant + "'; variants: chat, cot8");
    info_.name = "gsm8k";
    info_.variant = variant;
    info_.version = kVersion;
    info_.metrics = {"accuracy/strict", "accuracy/flexible"};
    info_.default_sampling.temperature = 0.0;
    info_.default_sampling.max_tokens = 2048;
  }

  const SuiteInfo& info() const override { return info_; }

  std::vector<Item> load(const datasets::Catalog& catalog) const override {
    std::vector<Item> items;
    for_each_jsonl(catalog.path("gsm8k/test.jsonl"), [&](size_t line, const nlohmann::json& j) {
      if (!j.contains("question") || !j.contains("answer"))
        throw Error(ErrorCode::data, "gsm8k/test.jsonl:" + std::to_string(line) + ": missing 'question' or 'answer'");
      items.push_back({std::to_string(items.size()), j});
    });
    if (info_.variant == "cot8") load_exemplars(catalog);
    return items;
  }

  PromptPlan prompt(const Item& item) const override {
    PromptPlan plan;
    const std::string question = item.fields.at("question").get<std::string>();
    if (info_.variant == "chat") {
      plan.user_turns.push_back(kChatInstruction + question);
    } else {
      plan.prefix = exemplars_;
      plan.user_turns.push_back(kCotQuestionPrefix + question);
    }
    return plan;
  }

  Grade grade(const Item& item, const Completion& completion, ScoringContext&) const override {
    Grade g;
    std::string text = completion.turns.empty() ? "" : completion.turns.back();
    ReasoningSplit split = split_reasoning(text, options_.reasoning_markers);
    g.answer_text = split.answer;
    g.reasoning_text = split.reasoning;
    if (!completion.reasoning.empty()) g.reasoning_text = completion.reasoning.back() + g.reasoning_text;
    g.truncated = !completion.finish_reasons.empty() && completion.finish_reasons.back() == "length";
    g.scores["truncated"] = g.truncated ? 1.0 : 0.0;  // for the suite's truncation_rate
    auto gold = gsm8k_gold(item.fields.at("answer").get<std::string>());
    g.extractions = {gsm8k_extract_strict(split.answer), gsm8k_extract_flexible(split.answer)};
    for (auto& e : g.extractions) {
      bool correct = gold && e.value && numbers_equal(*e.value, *gold);
      g.scores["accuracy/" + e.name] = correct ? 1.0 : 0.0;
      if (split.unterminated) e.reason += "; the reasoning block was never closed";
    }
    g.reason = "gold " + gold.value_or("?") + "; strict " + g.extractions[0].value.value_or("none") + "; flexible " +
               g.extractions[1].value.value_or("none");
    return g;
  }

 protected:
  nlohmann::json prompt_fingerprint() const override {
    nlohmann::json ex = nlohmann::json::array();
    for (int line : kCotExemplarLines) ex.push_back(line);
    return {{"chat", kChatInstruction}, {"cot_prefix", kCotQuestionPrefix}, {"cot_exemplar_lines", ex}};
  }

 private:
  void load_exemplars(const datasets::Catalog& catalog) const {
    if (!exemplars_.empty()) return;
    std::vector<nlohmann::json> train;
    for_each_jsonl(catalog.path("gsm8k/train.jsonl"), [&](size_t, const nlohmann::json& j) {
      if (train.size() < 8) train.push_back(j);
    });
    for (int line : kCotExemplarLines) {
      const auto& j = train.at(static_cast<size_t>(line));
      exemplars_.push_back({"user", kCotQuestionPrefix + j.at("question").get<std::string>()});
      exemplars_.push_back({"assistant", strip_calculator_annotations(j.at("answer").get<std::string>())});
    }
  }

  SuiteOptions options_;
  SuiteInfo info_;
  mutable std::vector<ChatMessage> exemplars_;
};

}  // namespace

std::optional<std::string> gsm8k_gold(std::string_view solution) {
  size_t pos = solution.rfind("####");
  if (pos == std::string_view::npos) return std::nullopt;
  return normalize_number(trim(solution.substr(pos + 4)));
}

Extraction gsm8k_extract_strict(std::string_view answer) {
  Extraction e{"strict", std::nullopt, ""};
  size_t pos = answer.rfind("####");
  if (pos == std::string_view::npos) {
    e.reason = "no '####' line";
    return e;
  }
  std::string_view rest = trim(answer.substr(pos + 4));
  // The number right after "####": sign, digits, separators, decimals, an optional '$'.
  size_t n = 0;
  while (n < rest.size() && (std::isdigit(static_cast<unsigned char>(rest[n])) || rest[n] == ',' || rest[n] == '.' ||
                             rest[n] == '$' || rest[n] == '-' || rest[n] == '+'))
    ++n;
  e.value = normalize_number(rest.substr(0, n));
  e.reason = e.value ? "number after the last '####'" : "'####' not followed by a number";
  return e;
}

Extraction gsm8k_extract_flexible(std::string_view answer) {
  Extraction e{"flexible", last_number(answer), ""};
  e.reason = e.value ? "last number in the answer" : "no number in the answer";
  return e;
}

std::unique_ptr<Suite> make_gsm8k_suite(const SuiteOptions& options) { return std::make_unique<Gsm8kSuite>(options); }

}  // namespace hb::suites
