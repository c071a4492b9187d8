#pragma once
// AIME 2024 and AIME 2025 (30 problems each, integer answers 0..999). One chat variant with the \boxed
// instruction; answers compared as integers, so zero-padded golds ("025") match "25". Sampling by default
// (T 0.6, top-p 0.95, 16 samples per problem); metrics: accuracy (avg@K with its standard error over
// problems), pass@k for k = 1, 2, 4, ... <= K (unbiased estimator), maj@K.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "suites/suite.h"

namespace hb::suites {

// "073", "\boxed{73}", "73.0", "$73$" -> 73; nullopt when the text is not an integer in 0..999.
std::optional<int> aime_integer(std::string_view text);

std::unique_ptr<Suite> make_aime24_suite(const SuiteOptions& options);
std::unique_ptr<Suite> make_aime25_suite(const SuiteOptions& options);

}  // namespace hb::suites
