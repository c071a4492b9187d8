#pragma once
// The truncation rate of one model on one suite: the share of its samples cut by the token limit, read from
// the per-sample "truncated" score the suites store (docs/SUITES.md, truncation rule). It explains score
// differences between models of different verbosity, so the report prints it beside each score.
#include <optional>
#include <string>

#include "reports/study_data.h"

namespace hb::reports {

// nullopt when the samples of that suite carry no "truncated" score (older runs).
std::optional<double> truncation_rate(const ModelData& model, const std::string& suite_label);

}  // namespace hb::reports
