#pragma once
// index.html: one self-contained page (inline CSS and SVG, no scripts, no network) that a person reads in
// one look: the recommendation, the Pareto frontier, scores with 95% intervals, throughput curves, latency
// percentiles, and the provenance block (git sha, config hashes, suite versions and prompt hashes,
// environment, warnings).
#include <string>
#include <vector>

#include "reports/gate.h"
#include "reports/pareto.h"
#include "reports/study_data.h"

namespace hb::reports {

// Throughput curves of one shape: tokens/s per user (y) against total output tokens/s (x), one line per model
// across its load levels.
std::string render_throughput_chart(const StudyData& study, const std::string& shape, double left, double top);
// Latency percentiles of one shape against the load level: `metric` "ttft_ms" or "tpot_ms", p50 solid and p99
// dashed, one colour per model.
std::string render_latency_chart(const StudyData& study, const std::string& shape, const std::string& metric,
                                 double left, double top);

// The headline block: "Recommended: X", "No candidate passes" or "No decision: too little data" with the
// reasons, followed by the rule in words and where it came from.
std::string render_decision_html(const GateDecision& d);

// `decision` is the gate (the study's policy, else the default one) run for the recommendation (may hold no choice).
std::string render_index_html(const StudyData& study, const std::vector<ParetoPanel>& panels,
                              const GateDecision* decision, const GatePolicy* policy);

}  // namespace hb::reports
