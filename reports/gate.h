#pragma once
// The ship gate: for every candidate and gated suite, a paired non-inferiority test against the baseline
// on the items both answered (per-item means, so multi-sample suites are tested over problems), with the
// policy's margin per suite; plus a minimum throughput ratio at a chosen workload. Every suite must pass
// (an intersection-union test, so no multiplicity correction is needed). The fastest passing candidate is
// chosen.
//
// Policy JSON:
//   {"alpha": 0.05, "default_margin": 0.02, "auto_margin": false,
//    "suites": {"gsm8k/chat0": {"margin": 0.03, "metric": "accuracy/strict"}, "aime": 0.08},  // optional
//    "throughput": {"shape": "1024:256", "load_kind": "concurrency", "load": 32, "min_ratio": 1.5},
//    "bootstrap": {"iterations": 10000, "seed": 20240917}}
// Without "suites", every suite of the baseline is gated at default_margin. Without "load", the peak level of
// each model is compared. Without "throughput", candidates are ranked by their Mamba fraction.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "reports/study_data.h"

namespace hb::reports {

struct GatePolicy {
  double alpha = 0.05;
  double default_margin = 0.02;
  // "auto_margin": true widens the margin of every suite not named in "suites" to the baseline's own 95% CI
  // half-width when that is larger (small suites such as AIME get a margin their size can resolve).
  bool auto_margin = false;
  struct SuiteRule {
    std::string suite;  // suite label or bare name
    double margin = 0.02;
    std::string metric;  // "" = the suite's primary metric
  };
  std::vector<SuiteRule> suites;  // empty = every baseline suite
  std::optional<std::string> shape;
  std::string load_kind = "concurrency";
  std::optional<double> load;
  double min_ratio = 1.0;
  int iterations = 10000;
  uint64_t seed = 20240917;
};

// Parses and validates a policy (unknown keys and bad values are usage errors naming the key).
GatePolicy parse_gate_policy(const nlohmann::json& j, const std::string& source);

struct SuiteCheck {
  std::string suite, metric, method;
  int64_t n = 0;
  int samples_per_item = 1;
  double baseline_score = 0, candidate_score = 0;
  double delta = 0, lower = 0, margin = 0, p = 1;
  std::optional<double> mcnemar_p;  // single binary samples: two-sided McNemar p for the difference
  bool passed = false;
  std::string reason;
};

struct CandidateVerdict {
  std::string model, ratio_label;
  bool passed = false;
  std::optional<double> throughput_ratio;
  std::optional<double> tok_per_s, baseline_tok_per_s;
  std::vector<SuiteCheck> suites;
  std::vector<std::string> reasons;  // one line per check, "PASS ..." or "FAIL ..."
};

struct GateDecision {
  std::string baseline;
  std::optional<std::string> chosen;
  std::string rule;  // how the chosen one was ranked
  std::vector<CandidateVerdict> candidates;
};

// candidates empty = every model but the baseline. Unknown names throw with a did-you-mean.
GateDecision run_gate(const StudyData& study, const std::vector<std::string>& candidates, const GatePolicy& policy);
// {"chosen": NAME or null, "baseline": ..., "candidates": [{"model", "passed", "reasons": [...], ...}]}
std::string render_gate_json(const GateDecision& d);
// The human-readable decision with every number used.
std::string render_gate_text(const GateDecision& d, const GatePolicy& policy);

}  // namespace hb::reports
