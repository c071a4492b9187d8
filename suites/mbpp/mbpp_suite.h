#pragma once
// MBPP, the test split (task_id 11..510 of mbpp.jsonl). Variants:
//   chat    0-shot chat that shows the three asserts and asks for one ```python block (default)
//   3shot   the original prompt of Austin et al. (tasks 2, 3, 4 as exemplars, "[BEGIN]" ... "[DONE]"), sent as
//           a raw completion with stop "[DONE]"
// The program run is the extracted code + test_setup_code + the three test_list asserts, through the
// injected CodeRunner with a 10 s wall-clock limit. Metric: accuracy (= pass@1 with one sample), plus
// pass@k with several samples.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "suites/suite.h"

namespace hb::suites {

struct ExtractedCode {
  std::string code;
  std::string how;  // "fenced python block with def f", "text before [DONE]", "raw text", ...
};

// The name of the function the asserts call ("assert similar_elements(...)" -> "similar_elements").
std::string mbpp_entry_point(const std::vector<std::string>& tests);
ExtractedCode mbpp_extract_code(std::string_view completion, std::string_view entry_point);
// code + setup + asserts, as run by the sandbox (the order of the original MBPP evaluation).
std::string mbpp_program(const std::string& setup, const std::string& code, const std::vector<std::string>& tests);

std::unique_ptr<Suite> make_mbpp_suite(const SuiteOptions& options);

}  // namespace hb::suites
