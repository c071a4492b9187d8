#include "suites/math/math_grade.h"

#include "suites/math/math_extract.h"

namespace hb::suites::math {

MathGrade grade_math_answer(std::string_view gold, std::string_view answer_text,
                            const std::vector<std::string>& priority, const MathOptions& options) {
  MathGrade g;
  std::vector<Extraction> all = extract_math_answers(answer_text);
  for (const auto& name : priority)
    for (const auto& e : all)
      if (e.name == name) g.extractions.push_back(e);
  for (const auto& e : g.extractions) {
    if (!e.value) continue;
    g.chosen = e.name;
    g.value = *e.value;
    g.verdict = math_equal(gold, *e.value, options);
    return g;
  }
  g.verdict = {false, "no answer found (" + std::to_string(g.extractions.size()) + " extractions tried)"};
  return g;
}

}  // namespace hb::suites::math
