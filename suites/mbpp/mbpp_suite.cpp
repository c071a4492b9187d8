#include "suites/mbpp/mbpp_suite.h"

#include <cctype>
#include <set>

#include "datasets/catalog.h"
#include "harness/base/error.h"
#include "harness/base/files.h"
#include "harness/base/strings.h"
#include "suites/common/code_runner.h"
#include "suites/common/completion_text.h"
#include "suites/common/sampling_metrics.h"
#include "suites/math/latex_normalize.h"

namespace hb::suites {
namespace {

constexpr const char* kVersion = "1";
constexpr double kTimeoutS = 10.0;
constexpr const char* kTaskTemplate =
    "You are an expert Python programmer, and here is your task: {text} Your code should pass these tests:\n\n{tests}";
constexpr const char* kChatSuffix =
    "\n\nWrite the complete Python solution (imports and the function) in a single ```python code block.";
constexpr int kFewShotTasks[3] = {2, 3, 4};

std::string crlf_to_lf(std::string s) {
  math::replace_all(s, "\r\n", "\n");
  return s;
}

std::vector<std::string> tests_of(const nlohmann::json& j) {
  std::vector<std::string> tests;
  for (const auto& t : j.at("test_list")) tests.push_back(t.get<std::string>());
  return tests;
}

std::string task_text(const nlohmann::json& j) {
  std::string text = kTaskTemplate;
  math::replace_all(text, "{text}", j.at("text").get<std::string>());
  math::replace_all(text, "{tests}", join(tests_of(j), "\n"));
  return text;
}

// The last non-empty line of a stderr tail ("AssertionError", "NameError: name 'x' is not defined").
std::string last_line(const std::string& s) {
  std::string_view t = trim(s);
  size_t nl = t.rfind('\n');
  std::string line(trim(nl == std::string_view::npos ? t : t.substr(nl + 1)));
  return line.size() > 160 ? line.substr(0, 157) + "..." : line;
}

class MbppSuite : public Suite {
 public:
  explicit MbppSuite(const SuiteOptions& options) : options_(options) {
    std::string variant = options.variant.empty() ? "chat" : options.variant;
    if (variant != "chat" && variant != "3shot")
      throw Error(ErrorCode::usage, "mbpp has no prompt variant '" + variant + "'; variants: chat, 3shot");
    info_.name = "mbpp";
    info_.variant = variant;
    info_.version = kVersion;
    info_.metrics = {"accuracy"};
    info_.default_sampling.temperature = 0.0;
    info_.default_sampling.max_tokens = variant == "chat" ? 4096 : 512;
    if (variant == "3shot") info_.default_sampling.stop = {"[DONE]"};
  }

  const SuiteInfo& info() const override { return info_; }

  std::vector<Item> load(const datasets::Catalog& catalog) const override {
    std::vector<Item> items;
    std::string path = catalog.path("mbpp/mbpp.jsonl");
    std::string shots;
    for_each_jsonl(path, [&](size_t line, const nlohmann::json& j) {
      if (!j.contains("task_id") || !j.contains("text") || !j.contains("code") || !j.contains("test_list"))
        throw Error(ErrorCode::data, path + ":" + std::to_string(line) +
                                         ": missing 'task_id', 'text', 'code' or 'test_list'; re-fetch with `hybench datasets fetch`");
      int id = j.at("task_id").get<int>();
      if (id >= 11 && id <= 510) items.push_back({std::to_string(id), j});
      for (int shot : kFewShotTasks)
        if (id == shot) exemplar_json_[shot] = j;
    });
    if (items.size() != 500)
      throw Error(ErrorCode::data, path + ": expected 500 test tasks (11..510), found " + std::to_string(items.size()));
    return items;
  }

  PromptPlan prompt(const Item& item) const override {
    PromptPlan plan;
    if (info_.variant == "chat") {
      plan.user_turns.push_back(task_text(item.fields) + kChatSuffix);
      return plan;
    }
    std::string text;
    for (int shot : kFewShotTasks) {
      auto it = exemplar_json_.find(shot);
      if (it == exemplar_json_.end())
        throw Error(ErrorCode::internal, "mbpp: few-shot task " + std::to_string(shot) + " not loaded; call load() first");
      text += task_text(it->second) + "\n[BEGIN]\n" + crlf_to_lf(it->second.at("code").get<std::string>()) + "\n[DONE]\n";
    }
    text += task_text(item.fields) + "\n[BEGIN]\n";
    plan.raw_prompt = text;
    plan.stop = {"[DONE]"};
    return plan;
  }

  Grade grade(const Item& item, const Completion& completion, ScoringContext& ctx) const override {
    Grade g;
    AnswerText t = prepare_grade(g, completion, options_.reasoning_markers);
    std::vector<std::string> tests = tests_of(item.fields);
    std::string setup = item.fields.value("test_setup_code", "");
    if (t.unterminated) {
      g.scores["accuracy"] = 0.0;
      g.reason = "truncated: the reasoning block was never closed, so there is no code";
      return g;
    }
    ExtractedCode code = mbpp_extract_code(t.answer, mbpp_entry_point(tests));
    Extraction e;
    e.name = "code";
    if (!code.code.empty()) e.value = code.code;
    e.reason = code.how;
    g.extractions.push_back(e);
    if (code.code.empty()) {
      g.scores["accuracy"] = 0.0;
      g.reason = "no code found" + std::string(g.truncated ? " (cut by the token limit)" : "");
      return g;
    }
    if (!ctx.code_runner) {
      g.reason = "not scored: no code runner was given";
      return g;
    }
    RunResult r = ctx.code_runner->run(mbpp_program(setup, code.code, tests), kTimeoutS);
    if (r.status == RunResult::Status::error) {
      g.reason = "not scored: the code runner failed: " + r.reason;
      return g;
    }
    g.scores["accuracy"] = r.passed() ? 1.0 : 0.0;
    std::string detail = r.passed() ? "" : last_line(r.stderr_tail);
    g.reason = std::string(run_status_name(r.status)) + (r.reason.empty() ? "" : ": " + r.reason) +
               (detail.empty() ? "" : " (" + detail + ")") + "; " + code.how +
               (g.truncated ? " (cut by the token limit)" : "");
    return g;
  }

  std::vector<MetricValue> aggregate(const std::vector<SampleScore>& samples) const override {
    std::vector<MetricValue> out = Suite::aggregate(samples);
    add_avg_at_k(samples, "accuracy", out);
    add_pass_at_k(samples, "accuracy", out);
    return out;
  }

 protected:
  nlohmann::json prompt_fingerprint() const override {
    return {{"task", kTaskTemplate}, {"chat_suffix", kChatSuffix}, {"shots", {2, 3, 4}}, {"timeout_s", kTimeoutS}};
  }

 private:
  SuiteOptions options_;
  SuiteInfo info_;
  mutable std::map<int, nlohmann::json> exemplar_json_;
};

struct Block {
  std::string lang;
  std::string body;
};

std::vector<Block> fenced_blocks(std::string_view s) {
  std::vector<Block> blocks;
  size_t pos = 0;
  while (blocks.size() < 64) {
    size_t open = s.find("```", pos);
    if (open == std::string_view::npos) break;
    size_t eol = s.find('\n', open + 3);
    if (eol == std::string_view::npos) break;
    Block b;
    b.lang = to_lower(trim(s.substr(open + 3, eol - open - 3)));
    size_t close = s.find("```", eol + 1);
    // An unclosed last block (cut by the token limit) runs to the end.
    b.body = std::string(s.substr(eol + 1, close == std::string_view::npos ? std::string_view::npos : close - eol - 1));
    blocks.push_back(std::move(b));
    if (close == std::string_view::npos) break;
    pos = close + 3;
  }
  return blocks;
}

}  // namespace

std::string mbpp_entry_point(const std::vector<std::string>& tests) {
  static const std::set<std::string> wrappers = {"set", "sorted", "list", "tuple", "abs", "round", "str", "int",
                                                 "float", "len", "frozenset", "math", "isclose", "assert", "not"};
  for (const auto& t : tests) {
    size_t i = 0;
    while (i < t.size()) {
      if (std::isalpha(static_cast<unsigned char>(t[i])) || t[i] == '_') {
        size_t j = i;
        while (j < t.size() && (std::isalnum(static_cast<unsigned char>(t[j])) || t[j] == '_')) ++j;
        std::string name = t.substr(i, j - i);
        if (j < t.size() && t[j] == '(' && !wrappers.count(name)) return name;
        i = j;
      } else {
        ++i;
      }
    }
  }
  return "";
}

ExtractedCode mbpp_extract_code(std::string_view text, std::string_view entry) {
  std::string_view s = text;
  bool had_done = false;
  if (size_t b = s.rfind("[BEGIN]"); b != std::string_view::npos) s = s.substr(b + 7);
  if (size_t d = s.find("[DONE]"); d != std::string_view::npos) {
    s = s.substr(0, d);
    had_done = true;
  }
  auto blocks = fenced_blocks(s);
  if (!blocks.empty()) {
    std::string def = "def " + std::string(entry);
    auto is_py = [](const Block& b) { return b.lang.empty() || b.lang == "python" || b.lang == "py" || b.lang == "python3"; };
    for (const auto& b : blocks)
      if (is_py(b) && !entry.empty() && b.body.find(def) != std::string::npos)
        return {b.body, "fenced block defining " + std::string(entry)};
    for (const auto& b : blocks)
      if (is_py(b)) return {b.body, "first python code block"};
    return {blocks.front().body, "first code block"};
  }
  std::string raw(trim(s));
  return {raw, raw.empty() ? "empty completion" : had_done ? "text before [DONE]" : "raw completion text"};
}

std::string mbpp_program(const std::string& setup, const std::string& code, const std::vector<std::string>& tests) {
  // The original MBPP evaluation runs the code, then test_setup_code (which may use the code's classes, as
  // task 367 does with Node), then the asserts.
  std::string p = crlf_to_lf(code) + "\n\n";
  if (!trim(setup).empty()) p += crlf_to_lf(setup) + "\n\n";
  for (const auto& t : tests) p += t + "\n";
  return p;
}

std::unique_ptr<Suite> make_mbpp_suite(const SuiteOptions& options) { return std::make_unique<MbppSuite>(options); }

}  // namespace hb::suites
