#include "suites/mt_bench/mt_bench_suite.h"

#include <cctype>
#include <map>
#include <mutex>
#include <set>

#include "datasets/catalog.h"
#include "harness/base/error.h"
#include "harness/base/files.h"
#include "harness/base/strings.h"
#include "suites/common/completion_text.h"
#include "suites/common/judge.h"
#include "suites/common/reasoning.h"
#include "suites/common/sampling_metrics.h"

namespace hb::suites {
namespace {

constexpr const char* kVersion = "1";
constexpr const char* kReferenceFile = "mt_bench/reference_answer/gpt-4.jsonl";
const std::set<std::string> kNeedReference = {"math", "reasoning", "coding"};

struct JudgePrompt {
  std::string system;
  std::string user_template;
};

// Substitutes {name} placeholders in one pass, so text inside a substituted value is never re-read.
std::string fill_template(const std::string& tmpl, const std::map<std::string, std::string>& values) {
  std::string out;
  size_t i = 0;
  while (i < tmpl.size()) {
    if (tmpl[i] == '{') {
      size_t close = tmpl.find('}', i);
      if (close != std::string::npos) {
        auto it = values.find(tmpl.substr(i + 1, close - i - 1));
        if (it != values.end()) {
          out += it->second;
          i = close + 1;
          continue;
        }
      }
    }
    out += tmpl[i++];
  }
  return out;
}

class MtBenchSuite : public Suite {
 public:
  explicit MtBenchSuite(const SuiteOptions& options) : options_(options) {
    std::string variant = options.variant.empty() ? "single" : options.variant;
    if (variant != "single") throw Error(ErrorCode::usage, "mt_bench has no variant '" + variant + "'; variants: single");
    info_.name = "mt_bench";
    info_.variant = variant;
    info_.version = kVersion;
    info_.metrics = {"score", "turn1", "turn2"};
    info_.default_sampling.temperature = 0.7;
    info_.default_sampling.max_tokens = 8192;
  }

  const SuiteInfo& info() const override { return info_; }

  std::vector<Item> load(const datasets::Catalog& catalog) const override {
    std::lock_guard<std::mutex> lock(mu_);
    std::string ppath = catalog.path("mt_bench/judge_prompts.jsonl");
    for_each_jsonl(ppath, [&](size_t, const nlohmann::json& j) {
      prompts_[j.at("name").get<std::string>()] = {j.at("system_prompt").get<std::string>(),
                                                   j.at("prompt_template").get<std::string>()};
    });
    for (const char* name : {"single-v1", "single-math-v1", "single-v1-multi-turn", "single-math-v1-multi-turn"})
      if (!prompts_.count(name)) throw Error(ErrorCode::data, ppath + ": no judge prompt '" + name + "'; re-fetch with `hybench datasets fetch`");
    std::map<int, std::vector<std::string>> refs;
    for_each_jsonl(catalog.path(kReferenceFile), [&](size_t, const nlohmann::json& j) {
      std::vector<std::string> turns;
      for (const auto& t : j.at("choices").at(0).at("turns")) turns.push_back(t.get<std::string>());
      refs[j.at("question_id").get<int>()] = turns;
    });
    std::vector<Item> items;
    std::string qpath = catalog.path("mt_bench/question.jsonl");
    for_each_jsonl(qpath, [&](size_t line, const nlohmann::json& j) {
      if (!j.contains("question_id") || !j.contains("category") || !j.contains("turns") || j.at("turns").size() != 2)
        throw Error(ErrorCode::data, qpath + ":" + std::to_string(line) + ": expected question_id, category and 2 turns");
      nlohmann::json f = j;
      int qid = j.at("question_id").get<int>();
      if (kNeedReference.count(j.at("category").get<std::string>())) {
        auto it = refs.find(qid);
        if (it == refs.end() || it->second.size() != 2)
          throw Error(ErrorCode::data, std::string(kReferenceFile) + ": no 2-turn reference answer for question " + std::to_string(qid));
        f["judge_reference"] = it->second;
      }
      items.push_back({std::to_string(qid), f});
    });
    return items;
  }

  PromptPlan prompt(const Item& item) const override {
    PromptPlan plan;
    for (const auto& t : item.fields.at("turns")) plan.user_turns.push_back(t.get<std::string>());
    plan.temperature = mt_bench_temperature(item.fields.at("category").get<std::string>());
    return plan;
  }

  Grade grade(const Item& item, const Completion& completion, ScoringContext& ctx) const override {
    Grade g;
    prepare_grade(g, completion, options_.reasoning_markers);
    const std::string category = item.fields.at("category").get<std::string>();
    std::vector<std::string> questions;
    for (const auto& t : item.fields.at("turns")) questions.push_back(t.get<std::string>());
    std::vector<std::string> answers;
    std::string reasoning_all;
    for (size_t t = 0; t < 2; ++t) {
      AnswerText a = answer_text(completion, t, options_.reasoning_markers);
      answers.push_back(a.answer);
      if (!a.reasoning.empty()) reasoning_all += (reasoning_all.empty() ? "" : "\n---\n") + a.reasoning;
      if (a.truncated) g.truncated = true;
    }
    g.reasoning_text = reasoning_all;
    if (completion.turns.size() < 2) {
      g.reason = "not scored: the completion has " + std::to_string(completion.turns.size()) + " turns, MT-Bench needs 2";
      return g;
    }
    if (!ctx.judge) {
      g.reason = "not scored: no judge was given (--judge SPEC)";
      return g;
    }
    bool math = item.fields.contains("judge_reference");
    std::map<std::string, std::string> v = {{"question", questions[0]},   {"answer", answers[0]},
                                            {"question_1", questions[0]}, {"answer_1", answers[0]},
                                            {"question_2", questions[1]}, {"answer_2", answers[1]}};
    if (math) {
      v["ref_answer_1"] = item.fields.at("judge_reference").at(0).get<std::string>();
      v["ref_answer_2"] = item.fields.at("judge_reference").at(1).get<std::string>();
    }
    std::vector<std::string> parts;
    double sum = 0;
    int count = 0;
    for (int turn = 1; turn <= 2; ++turn) {
      std::string name = std::string(math ? "single-math-v1" : "single-v1") + (turn == 2 ? "-multi-turn" : "");
      JudgePrompt p = prompt_named(name);
      std::vector<ChatMessage> messages = {{"system", p.system}, {"user", fill_template(p.user_template, v)}};
      JudgeReply reply = ctx.judge->judge(messages);
      Extraction e;
      e.name = "judgment/turn" + std::to_string(turn);
      std::string key = "turn" + std::to_string(turn);
      if (!reply.text) {
        e.reason = "judge call failed: " + reply.error;
        parts.push_back(key + ": error (" + reply.error.substr(0, 80) + ")");
        g.extractions.push_back(e);
        continue;
      }
      // A reasoning judge: read the rating from its final answer.
      ReasoningSplit split = split_reasoning(*reply.text, options_.reasoning_markers);
      e.value = *reply.text;
      auto rating = parse_judge_rating(split.answer);
      if (!rating || *rating < 1 || *rating > 10) {
        e.reason = rating ? "rating " + std::to_string(*rating) + " outside 1..10" : "no [[rating]] in the judgment";
        parts.push_back(key + ": " + e.reason);
      } else {
        g.scores[key] = *rating;
        sum += *rating;
        ++count;
        char buf[32];
        std::snprintf(buf, sizeof buf, "%g", *rating);
        e.reason = std::string("rating ") + buf + " (" + name + ", judge " + ctx.judge->model_id() + ")";
        parts.push_back(key + ": " + buf);
      }
      g.extractions.push_back(e);
    }
    if (count > 0) g.scores["category/" + category] = sum / count;
    g.reason = join(parts, "; ") + (g.truncated ? " (an answer was cut by the token limit)" : "");
    return g;
  }

  std::vector<MetricValue> aggregate(const std::vector<SampleScore>& samples) const override {
    std::vector<MetricValue> out;
    // score: the mean over every judgment (both turns), with the standard error over items.
    std::map<std::string, std::vector<double>> per_item_judgments;
    std::map<std::string, std::vector<double>> per_category;
    for (const auto& s : samples) {
      std::string category;
      for (const auto& [k, val] : s.scores)
        if (starts_with(k, "category/")) category = k.substr(9);
      for (const char* t : {"turn1", "turn2"}) {
        auto it = s.scores.find(t);
        if (it == s.scores.end()) continue;
        per_item_judgments[s.item_id].push_back(it->second);
        if (!category.empty()) per_category[category].push_back(it->second);
      }
    }
    std::vector<double> all, item_means;
    for (const auto& [id, v] : per_item_judgments) {
      double m = 0;
      for (double x : v) {
        all.push_back(x);
        m += x;
      }
      item_means.push_back(m / v.size());
    }
    MetricValue score = mean_over_items("score", all);
    score.stderr_ = mean_over_items("score", item_means).stderr_;
    score.n = item_means.size();
    out.push_back(score);
    for (const auto& m : Suite::aggregate(samples))
      if (m.metric != "score") out.push_back(m);
    for (const auto& [cat, v] : per_category) out.push_back(mean_over_items("category/" + cat, v));
    return out;
  }

 protected:
  nlohmann::json prompt_fingerprint() const override {
    return {{"turns", "questions as given, second turn after the model's own first answer"},
            {"temperatures", {{"writing", 0.7}, {"roleplay", 0.7}, {"extraction", 0.0}, {"math", 0.0},
                              {"coding", 0.0}, {"reasoning", 0.0}, {"stem", 0.1}, {"humanities", 0.1}}},
            {"judge_reference", kReferenceFile}};
  }

 private:
  JudgePrompt prompt_named(const std::string& name) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = prompts_.find(name);
    if (it == prompts_.end()) throw Error(ErrorCode::internal, "mt_bench: judge prompt '" + name + "' not loaded; call load() first");
    return it->second;
  }

  SuiteOptions options_;
  SuiteInfo info_;
  mutable std::mutex mu_;
  mutable std::map<std::string, JudgePrompt> prompts_;
};

std::optional<double> parse_rating_in(std::string_view s, std::string_view open, std::string_view close) {
  size_t pos = 0;
  while ((pos = s.find(open, pos)) != std::string_view::npos) {
    size_t i = pos + open.size();
    size_t j = i;
    while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
    if (j > i && j < s.size() && s[j] == '.') {
      ++j;
      while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
    }
    if (j > i && s.compare(j, close.size(), close) == 0 && j - i <= 12)
      return std::strtod(std::string(s.substr(i, j - i)).c_str(), nullptr);
    pos = i;
  }
  return std::nullopt;
}

}  // namespace

std::optional<double> parse_judge_rating(std::string_view judgment) {
  if (auto r = parse_rating_in(judgment, "[[", "]]")) return r;
  return parse_rating_in(judgment, "[", "]");
}

double mt_bench_temperature(const std::string& category) {
  static const std::map<std::string, double> t = {{"writing", 0.7}, {"roleplay", 0.7}, {"extraction", 0.0},
                                                  {"math", 0.0},    {"coding", 0.0},   {"reasoning", 0.0},
                                                  {"stem", 0.1},    {"humanities", 0.1}};
  auto it = t.find(category);
  return it == t.end() ? 0.7 : it->second;
}

std::unique_ptr<Suite> make_mt_bench_suite(const SuiteOptions& options) {
  return std::make_unique<MtBenchSuite>(options);
}

}  // namespace hb::suites
