#pragma once
// Equivalence of two final answers (gold first): normalise, parse into AnswerValue, then compare by shape.
// Scalars: exact rationals when both sides are rational; otherwise complex long-double evaluation (radicals,
// pi, trig) with a relative tolerance of 1e-9, at several deterministic random points when variables
// appear. Every verdict carries a one-line reason.
#include <string>
#include <string_view>

namespace hb::suites::math {

// How an answer equation may differ from the gold's when both are equations (lhs - rhs compared):
//   positive_multiple  a positive constant multiple (5x-7y+11z+4=0 and 10x-14y+22z+8=0) but, when the gold is in
//                      the normal form "... = 0", never a negated one: MATH problems that ask for that form fix
//                      the sign ("where A > 0"), so -5x+7y-11z-4=0 is wrong (default); "2x - y + 3 = 0" for
//                      the gold "y = 2x + 3" stays equal
//   any_multiple       any non-zero constant multiple, negated ones included
enum class EquationMultiples { positive_multiple, any_multiple };

struct MathOptions {
  bool accept_unreduced_fractions = true;   // 6/8 for 3/4 (Math-Verify accepts; prm800k rejects)
  EquationMultiples equation_multiples = EquationMultiples::positive_multiple;
  bool accept_decimal_for_irrational = false;  // 1.414 for \sqrt{2}
  double relative_tolerance = 1e-9;
};

struct MathVerdict {
  bool equal = false;
  std::string reason;
};

MathVerdict math_equal(std::string_view gold, std::string_view pred, const MathOptions& options = {});

}  // namespace hb::suites::math
