#pragma once
// MATH500 (the prm800k test subset, 500 problems). Variants:
//   chat      0-shot chat, "put your final answer within \boxed{}" (default); extraction priority
//             boxed > minerva > answer_line > last_number
//   minerva4  Minerva 4-shot raw completion, stop "Problem:"; priority minerva > boxed > answer_line >
//             last_number
// Graded by the native math grader (suites/math); metric "accuracy".
#include <memory>

#include "suites/suite.h"

namespace hb::suites {

std::unique_ptr<Suite> make_math500_suite(const SuiteOptions& options);

}  // namespace hb::suites
