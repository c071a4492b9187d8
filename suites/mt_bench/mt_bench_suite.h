#pragma once
// MT-Bench (80 two-turn questions, FastChat llm_judge single-answer grading). The second turn is sent after
// the model's own first answer; the temperature follows the category as in FastChat (writing/roleplay 0.7,
// stem/humanities 0.1, extraction/math/coding/reasoning 0). Each turn is judged through the injected
// Judge with FastChat's prompts from judge_prompts.jsonl: single-v1 / single-v1-multi-turn, and the
// single-math-v1 pair with the GPT-4 reference answers for math, reasoning and coding. The rating is the
// first "[[x]]" in the judgment, else the first "[x]"; a failed call or a judgment without a rating in 1..10
// is stored as an error and never as a score. Reasoning traces are stripped from the answers before
// judging. Metrics: score (mean over all judgments), turn1, turn2, category/<name>.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "suites/suite.h"

namespace hb::suites {

// The first [[x]] (else [x]) rating, x a non-negative decimal; nullopt when there is none.
std::optional<double> parse_judge_rating(std::string_view judgment);

// FastChat's temperature for a category (0.7 for unknown categories).
double mt_bench_temperature(const std::string& category);

std::unique_ptr<Suite> make_mt_bench_suite(const SuiteOptions& options);

}  // namespace hb::suites
