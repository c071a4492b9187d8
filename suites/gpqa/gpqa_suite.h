#pragma once
// GPQA-Diamond (198 four-option questions). The options of each item are permuted by a seeded permutation
// that depends only on the item's Record ID and the suite version: items are ordered by a hash of their
// Record ID, the i-th item gets its correct answer in slot i mod 4 (so the correct letter is spread evenly
// over A-D: 50/50/49/49), and the distractors are shuffled by a generator seeded from the same hash. The
// permutation is recorded with every sample. One chat variant (the simple-evals "Answer: $LETTER" prompt);
// extractions answer_line > boxed > final_line (common/choice_extract.h). Metric: accuracy, plus pass@k
// and maj@K with several samples.
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "suites/suite.h"

namespace hb::suites {

// The option order of one item: order[slot] = index into {correct, incorrect 1, incorrect 2, incorrect 3}.
struct GpqaPermutation {
  std::array<int, 4> order{};
  char correct_letter = 'A';
  std::string describe() const;  // "C,0,2,1,3": the correct letter, then order
};

// Permutations for a list of Record IDs (the whole dataset: the balance is over all items).
std::vector<GpqaPermutation> gpqa_permutations(const std::vector<std::string>& record_ids);

std::unique_ptr<Suite> make_gpqa_suite(const SuiteOptions& options);

}  // namespace hb::suites
