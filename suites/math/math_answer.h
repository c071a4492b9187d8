#pragma once
// The shape of a normalised final answer: a scalar expression, a word answer, an ordered tuple or interval
// (bracket types kept), an unordered set (\{...\}, "a, b, c" lists, \pm expansions, unions of intervals),
// a matrix, or an equation.
#include <string>
#include <string_view>
#include <vector>

#include "suites/math/math_expr.h"

namespace hb::suites::math {

struct AnswerValue {
  enum class Kind { expr, text, tuple, set, matrix, equation };
  Kind kind = Kind::text;
  std::string text;              // the normalised source of this part
  NodePtr expr;                  // Kind::expr when parsing succeeded
  std::string parse_error;       // Kind::expr when it did not
  char open = 0, close = 0;      // Kind::tuple: "(", "[", ")" or "]"
  std::vector<AnswerValue> items;  // tuple/set elements; equation {lhs, rhs}; matrix row-major
  size_t rows = 0, cols = 0;     // Kind::matrix
};

// was_text: the answer was one \text{...} (see NormalizedAnswer).
AnswerValue parse_answer(std::string_view normalised, bool was_text = false, int depth = 0);

const char* kind_name(AnswerValue::Kind kind);

}  // namespace hb::suites::math
