// grade_math_jsonl IN.jsonl OUT.jsonl: grades {"gold", "completion", optional "finish_reason"} lines through the
// math500 suite, exactly as `hybench score --suite math500` does, in a process that links only the suites
// (hybench itself links LibTorch, whose dynamic loading costs ~0.7 s of CPU before main). Used by
// tests/tools/crosscheck_math_verify.py --grader to time the grading itself, whole process, against
// Math-Verify. Output lines: {"correct", "extracted", "reason"}. Exit 2 on unreadable input.
#include <cstdio>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "suites/suite.h"

int main(int argc, char** argv) {
  using namespace hb::suites;
  if (argc != 3) {
    std::fprintf(stderr, "usage: grade_math_jsonl IN.jsonl OUT.jsonl\n");
    return 2;
  }
  std::ifstream in(argv[1]);
  std::ofstream out(argv[2]);
  if (!in || !out) {
    std::fprintf(stderr, "grade_math_jsonl: cannot open %s or %s\n", argv[1], argv[2]);
    return 2;
  }
  auto suite = make_suite("math500", {});
  ScoringContext ctx;
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("gold") || !j.contains("completion") ||
        !j["gold"].is_string() || !j["completion"].is_string()) {
      std::fprintf(stderr, "grade_math_jsonl: line %zu is not {\"gold\": STRING, \"completion\": STRING}\n", n);
      return 2;
    }
    Item item{"line" + std::to_string(n), {{"answer", j["gold"]}, {"problem", ""}, {"unique_id", "line"}}};
    Completion c;
    c.turns = {j["completion"].get<std::string>()};
    c.reasoning = {""};
    c.finish_reasons = {j.value("finish_reason", std::string("stop"))};
    Grade g = suite->grade(item, c, ctx);
    nlohmann::json o{{"correct", g.scores["accuracy"] == 1.0}, {"reason", g.reason}};
    for (const auto& e : g.extractions)
      if (e.value) {
        o["extracted"] = *e.value;
        break;
      }
    out << o.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }
  return 0;
}
