// The math grader's public API on hostile text: answer extraction from a completion, and math_equal on
// two answers (gold, prediction) split at the first newline. Verdicts must be symmetric in their
// failure mode (never crash, never hang) and every verdict must carry a reason.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "suites/math/math_equal.h"
#include "suites/math/math_extract.h"

using namespace hb::suites::math;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;  // answers are short; long inputs only slow the search down
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)extract_math_answers(text);
  (void)last_boxed(text);
  size_t nl = text.find('\n');
  std::string_view gold = text.substr(0, nl);
  std::string_view pred = nl == std::string_view::npos ? text : text.substr(nl + 1);
  try {
    MathVerdict v = math_equal(gold, pred);
    if (v.reason.empty()) std::abort();
    MathVerdict self = math_equal(gold, gold);
    if (self.reason.empty()) std::abort();
  } catch (const std::exception&) {
    std::abort();  // the grader's contract: a verdict with a reason, never an exception
  }
  return 0;
}
