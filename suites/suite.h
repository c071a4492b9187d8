#pragma once
// A suite turns dataset items into prompts and grades completions. Suites are pure: they never see HTTP,
// SQLite or LibTorch. Code execution (MBPP) and judging (MT-Bench) are injected through ScoringContext.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/backends/backend.h"  // ChatMessage, SamplingParams (plain structs, no transport)

namespace hb::datasets {
class Catalog;
}

namespace hb::suites {

struct Item {
  std::string id;          // the suite's own item id (GSM8K line number, MATH500 unique_id, ...)
  nlohmann::json fields;   // the raw record
};

// What is sent for one item: a fixed prefix (system prompt, few-shot exemplars) and one or more user
// turns, each sent after the model's answer to the previous one (MT-Bench has two). When raw_prompt is
// set the suite wants a plain completion (/v1/completions) instead of a chat.
struct PromptPlan {
  std::vector<ChatMessage> prefix;
  std::vector<std::string> user_turns;
  std::optional<std::string> raw_prompt;
  std::optional<double> temperature;    // per-item override (MT-Bench categories)
  std::vector<std::string> stop;        // extra stop strings
};

// What the model answered, one entry per turn.
struct Completion {
  std::vector<std::string> turns;       // raw answer text per turn (content channel)
  std::vector<std::string> reasoning;   // reasoning channel per turn, as the server sent it apart
  std::vector<std::string> finish_reasons;
};

struct Extraction {
  std::string name;                     // "strict", "flexible", "boxed", ...
  std::optional<std::string> value;     // nullopt when nothing was found
  std::string reason;                   // why this value (or why none)
};

// The grade of one sample. scores maps metric name -> value (1/0 for accuracy, 1..10 for MT-Bench).
// A metric missing from scores means "not scorable" (e.g. a failed judgment), never zero.
struct Grade {
  std::vector<Extraction> extractions;
  std::map<std::string, double> scores;
  std::string reason;
  std::string answer_text;              // the answer after the reasoning trace was stripped (last turn)
  std::string reasoning_text;           // the stripped reasoning (all turns)
  bool truncated = false;               // cut by the token limit
};

struct MetricValue {
  std::string metric;
  size_t n = 0;          // items contributing
  double value = 0;
  double stderr_ = 0;
};

// One graded sample as the aggregator sees it.
struct SampleScore {
  std::string item_id;
  int sample_index = 0;
  std::map<std::string, double> scores;
};

class CodeRunner;   // suites/common/code_runner.h (implemented by harness/sandbox)
class Judge;        // suites/common/judge.h (implemented over a Backend by the runner)

struct ScoringContext {
  CodeRunner* code_runner = nullptr;
  Judge* judge = nullptr;
};

struct SuiteInfo {
  std::string name;                     // "gsm8k"
  std::string variant;                  // "chat0", "cot8", ...
  std::string version;                  // bumped whenever prompts or grading change
  std::vector<std::string> metrics;     // in display order
  SamplingParams default_sampling;
  int default_samples = 1;
};

struct SuiteOptions {
  std::string variant;                          // "" = the suite's default
  std::vector<std::string> reasoning_markers;   // empty = defaults (see common/reasoning.h)
};

class Suite {
 public:
  virtual ~Suite() = default;
  virtual const SuiteInfo& info() const = 0;
  virtual std::vector<Item> load(const datasets::Catalog& catalog) const = 0;
  virtual PromptPlan prompt(const Item& item) const = 0;
  virtual Grade grade(const Item& item, const Completion& completion, ScoringContext& ctx) const = 0;
  // Default: for each metric, the mean over items of the per-item mean over samples, with the standard
  // error over items (sd / sqrt(n)). Multi-sample suites add pass@k / maj@k.
  virtual std::vector<MetricValue> aggregate(const std::vector<SampleScore>& samples) const;
  // Hash of everything that shapes the prompts (templates, few-shot exemplars, variant).
  std::string prompt_hash() const;

 protected:
  // Prompt-defining data for prompt_hash(); suites return their templates and exemplars.
  virtual nlohmann::json prompt_fingerprint() const = 0;
};

// The explicit list of suites (suite_registry.cpp). Unknown names throw Error{usage} with a suggestion.
std::unique_ptr<Suite> make_suite(const std::string& name, const SuiteOptions& options);
std::vector<std::string> suite_names();

}  // namespace hb::suites
