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
//    "min_items": 100,   // or {"default": 100, "aime24": 30}; also "min_items" inside a suite rule
//    "bootstrap": {"iterations": 10000, "seed": 20240917}}
// Without "suites", every suite of the baseline is gated at default_margin. Without "load", the peak level of
// each model is compared. Without "throughput", candidates are ranked by their Mamba fraction.
//
// Guards: a suite check with fewer paired items than its minimum, or with degenerate data (every score equal
// across both models, a baseline at 0 on every item, or per-item differences without any variance) decides
// nothing; when any check decides nothing and no other check fails its candidate, the whole gate reports
// "no decision: too little data" with the reasons (and a power estimate), and the CLI exits kExitNoDecision.
#include <nlohmann/json.hpp>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "reports/study_data.h"

namespace hb::reports {

// Exit code of `gate` and `run` when the data cannot support a decision (README, docs/REPORTS.md).
inline constexpr int kExitNoDecision = 4;

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
    std::optional<int64_t> min_items;
  };
  std::vector<SuiteRule> suites;  // empty = every baseline suite
  std::optional<std::string> shape;
  std::string load_kind = "concurrency";
  std::optional<double> load;
  double min_ratio = 1.0;
  int iterations = 10000;
  uint64_t seed = 20240917;
  int64_t min_items = 100;                  // paired items a suite needs before it can decide
  std::map<std::string, int64_t> min_items_by_suite;  // "min_items": {"aime24": 30}
  std::string origin = "default gate";      // where the policy came from, shown with the rule
  int64_t min_items_for(const std::string& suite_label, const std::optional<int64_t>& rule) const;
};

// The rule in words: margins, test, alpha, minimum items, throughput point and ratio, how the pick is made.
std::string describe_policy(const GatePolicy& p);

// Parses and validates a policy (unknown keys and bad values are usage errors naming the key).
GatePolicy parse_gate_policy(const nlohmann::json& j, const std::string& source);

struct SuiteCheck {
  std::string suite, metric, method;
  int64_t n = 0;
  int samples_per_item = 1;
  double baseline_score = 0, candidate_score = 0;
  double delta = 0, lower = 0, margin = 0, p = 1;
  std::optional<double> mcnemar_p;  // single binary samples: two-sided McNemar p for the difference
  double scale = 100;               // 100: a [0, 1] metric shown in points; 1: a rating in its own units
  int64_t min_items = 0;
  bool passed = false;
  bool undecided = false;  // a guard fired: too few items or degenerate data
  std::string guard;       // why it is undecided (with the power estimate when n is short)
  std::string decided_by;  // "lower bound -1.3 > -2.0 margin"
  std::string reason;
};

struct CandidateVerdict {
  std::string model, ratio_label;
  bool passed = false;
  bool undecided = false;  // nothing failed, but a check could not decide
  std::optional<double> throughput_ratio;
  std::optional<double> tok_per_s, baseline_tok_per_s;
  std::vector<SuiteCheck> suites;
  struct ThroughputCheck {
    std::string where;       // "throughput at 1024:256 concurrency=32"
    std::string decided_by;  // "ratio 1.47x >= 1.20x min ratio", or why there is no ratio
    std::string context;     // "1456.0 vs 988.7 output tok/s, median of 3 repeat(s)"
    bool passed = false;
  };
  std::optional<ThroughputCheck> throughput;  // present when the policy has a throughput section
  std::vector<std::string> reasons;  // one line per check, "PASS ..." or "FAIL ..."
};

struct GateDecision {
  std::string baseline;
  std::optional<std::string> chosen;
  std::string rule;  // how the chosen one was ranked
  std::string policy_text;  // describe_policy() of the policy used
  std::string origin;       // GatePolicy::origin
  bool no_decision = false;  // too little data: see no_decision_reasons
  std::vector<std::string> no_decision_reasons;
  std::vector<CandidateVerdict> candidates;
  // "chosen", "none" (every candidate failed a check) or "no_decision".
  std::string status() const { return no_decision ? "no_decision" : chosen ? "chosen" : "none"; }
};

// 0 chosen, 1 none passed, kExitNoDecision too little data.
int gate_exit_code(const GateDecision& d);

// candidates empty = every model but the baseline. Unknown names throw with a did-you-mean.
GateDecision run_gate(const StudyData& study, const std::vector<std::string>& candidates, const GatePolicy& policy);
// {"decision", "chosen": NAME or null, "baseline", "rule", "policy", "no_decision_reasons", "candidates": [...]}
nlohmann::ordered_json gate_json(const GateDecision& d);
std::string render_gate_json(const GateDecision& d);
// The human-readable decision with every number used.
std::string render_gate_text(const GateDecision& d, const GatePolicy& policy);

}  // namespace hb::reports
