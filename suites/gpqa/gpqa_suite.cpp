#include "suites/gpqa/gpqa_suite.h"

#include <algorithm>
#include <numeric>

#include "datasets/catalog.h"
#include "harness/base/error.h"
#include "harness/base/strings.h"
#include "suites/common/choice_extract.h"
#include "suites/common/completion_text.h"
#include "suites/common/csv.h"
#include "suites/common/sampling_metrics.h"
#include "suites/math/latex_normalize.h"

namespace hb::suites {
namespace {

constexpr const char* kVersion = "2";  // 2: choices in prose, truncation rule
constexpr const char* kSeedSalt = "hybench-gpqa-v1";
constexpr const char* kLetters = "ABCD";
// simple-evals' multiple-choice template (also lighteval's): the last line must be "Answer: $LETTER".
constexpr const char* kChatTemplate =
    "Answer the following multiple choice question. The last line of your response should be of the following "
    "format: 'Answer: $LETTER' (without quotes) where LETTER is one of ABCD. Think step by step before "
    "answering.\n\n{question}\n\nA) {A}\nB) {B}\nC) {C}\nD) {D}";

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::string trimmed(const std::string& s) { return std::string(trim(s)); }

class GpqaSuite : public Suite {
 public:
  explicit GpqaSuite(const SuiteOptions& options) : options_(options) {
    std::string variant = options.variant.empty() ? "chat" : options.variant;
    if (variant != "chat") throw Error(ErrorCode::usage, "gpqa has no prompt variant '" + variant + "'; variants: chat");
    info_.name = "gpqa";
    info_.variant = variant;
    info_.version = kVersion;
    info_.metrics = {"accuracy"};
    info_.default_sampling.temperature = 0.0;
    info_.default_sampling.max_tokens = 32768;
  }

  const SuiteInfo& info() const override { return info_; }

  std::vector<Item> load(const datasets::Catalog& catalog) const override {
    std::string path = catalog.path("gpqa_diamond/gpqa_diamond.csv");
    auto records = read_csv_records(path);
    std::vector<std::string> ids;
    for (const auto& r : records) {
      for (const char* col : {"Question", "Correct Answer", "Incorrect Answer 1", "Incorrect Answer 2",
                              "Incorrect Answer 3", "Record ID"})
        if (!r.count(col)) throw Error(ErrorCode::data, path + ": no column '" + col + "'; re-fetch with `hybench datasets fetch`");
      ids.push_back(trimmed(r.at("Record ID")));
    }
    auto perms = gpqa_permutations(ids);
    std::vector<Item> items;
    for (size_t i = 0; i < records.size(); ++i) {
      const auto& r = records[i];
      nlohmann::json j;
      j["question"] = trimmed(r.at("Question"));
      j["options"] = {trimmed(r.at("Correct Answer")), trimmed(r.at("Incorrect Answer 1")),
                      trimmed(r.at("Incorrect Answer 2")), trimmed(r.at("Incorrect Answer 3"))};
      j["order"] = perms[i].order;
      j["correct_letter"] = std::string(1, perms[i].correct_letter);
      j["permutation"] = perms[i].describe();
      if (r.count("High-level domain")) j["domain"] = r.at("High-level domain");
      items.push_back({ids[i], j});
    }
    return items;
  }

  PromptPlan prompt(const Item& item) const override {
    PromptPlan plan;
    std::string text = kChatTemplate;
    math::replace_all(text, "{question}", item.fields.at("question").get<std::string>());
    const auto& opts = item.fields.at("options");
    const auto& order = item.fields.at("order");
    for (int slot = 0; slot < 4; ++slot)
      math::replace_all(text, std::string("{") + kLetters[slot] + "}", opts.at(order.at(slot).get<int>()).get<std::string>());
    plan.user_turns.push_back(text);
    return plan;
  }

  Grade grade(const Item& item, const Completion& completion, ScoringContext&) const override {
    Grade g;
    AnswerText t = prepare_grade(g, completion, options_.reasoning_markers);
    const std::string correct = item.fields.at("correct_letter").get<std::string>();
    Extraction perm{"permutation", item.fields.at("permutation").get<std::string>(),
                    "option order: correct letter, then the source index shown in A..D"};
    if (t.unterminated) {
      g.extractions.push_back(perm);
      g.scores["accuracy"] = 0.0;
      g.reason = "truncated: the reasoning block was never closed, so there is no answer";
      note_truncation(g);
      return g;
    }
    g.extractions = extract_choice(t.answer, kLetters);
    const Extraction* chosen = nullptr;
    for (const auto& e : g.extractions)
      if (!chosen && e.value) chosen = &e;
    std::string reason;
    if (chosen) {
      bool ok = *chosen->value == correct;
      g.scores["accuracy"] = ok ? 1.0 : 0.0;
      g.scores["answer"] = (*chosen->value)[0] - 'A';  // for maj@K (not a metric)
      reason = chosen->name + ": " + *chosen->value + (ok ? " is" : " is not") + " the correct " + correct;
    } else {
      g.scores["accuracy"] = 0.0;
      reason = "no choice letter found (correct " + correct + ")";
    }
    g.extractions.push_back(perm);
    g.reason = reason + (g.truncated ? " (cut by the token limit)" : "");
    apply_truncation_rule(g, "accuracy", chosen && is_explicit_choice(chosen->name));
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
  nlohmann::json prompt_fingerprint() const override { return {{"chat", kChatTemplate}, {"seed_salt", kSeedSalt}}; }

 private:
  SuiteOptions options_;
  SuiteInfo info_;
};

}  // namespace

std::string GpqaPermutation::describe() const {
  std::string s(1, correct_letter);
  for (int o : order) s += "," + std::to_string(o);
  return s;
}

std::vector<GpqaPermutation> gpqa_permutations(const std::vector<std::string>& ids) {
  std::vector<uint64_t> hashes;
  for (const auto& id : ids) hashes.push_back(fnv1a(std::string(kSeedSalt) + ":" + id));
  std::vector<size_t> rank(ids.size());
  std::iota(rank.begin(), rank.end(), 0);
  std::sort(rank.begin(), rank.end(), [&](size_t a, size_t b) {
    return hashes[a] != hashes[b] ? hashes[a] < hashes[b] : ids[a] < ids[b];
  });
  std::vector<GpqaPermutation> out(ids.size());
  for (size_t r = 0; r < rank.size(); ++r) {
    size_t i = rank[r];
    int slot = static_cast<int>(r % 4);
    uint64_t state = hashes[i];
    std::array<int, 3> wrong = {1, 2, 3};
    for (int k = 2; k > 0; --k) std::swap(wrong[k], wrong[splitmix64(state) % (k + 1)]);
    GpqaPermutation p;
    int w = 0;
    for (int s = 0; s < 4; ++s) p.order[s] = s == slot ? 0 : wrong[w++];
    p.correct_letter = kLetters[slot];
    out[i] = p;
  }
  return out;
}

std::unique_ptr<Suite> make_gpqa_suite(const SuiteOptions& options) { return std::make_unique<GpqaSuite>(options); }

}  // namespace hb::suites
