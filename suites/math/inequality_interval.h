#pragma once
// Inequalities and set-builder notation rewritten as intervals, so that "x \ge 5", "5 \le x", "[5,\infty)"
// and "\{x \mid x \ge 5\}" compare equal:
//   a \le x \le b          -> [a,b]           (also <, \lt, >, \ge, mixed, and b \ge x \ge a)
//   x > a                  -> (a,\infty)      x \le b -> (-\infty,b]
//   x \ne a                -> (-\infty,a) \cup (a,\infty)
//   C1 or C2 (\text{or}, \lor, \cup)          -> the union of both
//   C1, C2 (also "and", \land) on one variable -> their intersection when it is one interval
//   \{x \mid C\}, \{x : C\}, \{x \in \mathbb{R} : C\} -> C as above
// Input is normalised LaTeX (latex_normalize.h: \leq -> \le, unicode relations mapped). Endpoints are kept as
// text and compared later as expressions; only one variable may appear on the relation side.
#include <optional>
#include <string>
#include <string_view>

namespace hb::suites::math {

// The interval (or union of intervals) written in interval notation, or nullopt when s is not an inequality
// in one variable.
std::optional<std::string> inequality_as_interval(std::string_view s);

}  // namespace hb::suites::math
