#pragma once
// Equivalence of two final answers (gold first): normalise, parse into AnswerValue, then compare by shape.
// Scalars: exact rationals when both sides are rational; otherwise complex long-double evaluation (radicals,
// pi, trig) with a relative tolerance of 1e-9, at several deterministic random points when variables
// appear. Every verdict carries a one-line reason.
#include <string>
#include <string_view>

namespace hb::suites::math {

struct MathOptions {
  bool accept_unreduced_fractions = true;   // 6/8 for 3/4 (Math-Verify accepts; prm800k rejects)
  bool accept_decimal_for_irrational = false;  // 1.414 for \sqrt{2}
  double relative_tolerance = 1e-9;
};

struct MathVerdict {
  bool equal = false;
  std::string reason;
};

MathVerdict math_equal(std::string_view gold, std::string_view pred, const MathOptions& options = {});

}  // namespace hb::suites::math
