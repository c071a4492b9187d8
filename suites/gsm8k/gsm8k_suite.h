#pragma once
// GSM8K (1319 test problems). Variants: "chat" (zero-shot chat asking for a final "#### n" line, the
// default) and "cot8" (8-shot chain of thought with fixed exemplars from the train split). Named
// extractions: "strict" (the number after the last "####") and "flexible" (the last number), both
// stored and both reported as accuracy/strict and accuracy/flexible. The reasoning trace is stripped
// before extraction.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "suites/suite.h"

namespace hb::suites {

// The gold final answer of a GSM8K solution (text after "#### "), normalised.
std::optional<std::string> gsm8k_gold(std::string_view solution);
// Named extractions on an answer text (reasoning already stripped).
Extraction gsm8k_extract_strict(std::string_view answer);
Extraction gsm8k_extract_flexible(std::string_view answer);

std::unique_ptr<Suite> make_gsm8k_suite(const SuiteOptions& options);

}  // namespace hb::suites
