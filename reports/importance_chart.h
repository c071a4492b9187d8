#pragma once
// The layer-importance chart of a sweep (issue 16): one bar per layer (x: layer index, y: the importance
// value with its 95% interval), current Mamba layers marked, the proposed next conversions highlighted; and
// the report section around it (one chart per sweep plus the recommended conversion set in text).
#include <string>
#include <vector>

#include "reports/importance_data.h"

namespace hb::reports {

// A self-contained <svg> element (no scripts): bars, error bars, axes, legend.
std::string render_importance_svg(const ImportanceSweep& sweep);

// The index.html section ("" when there is no sweep).
std::string render_importance_section(const std::vector<ImportanceSweep>& sweeps);

// summary.json with an "importance" key added (the input unchanged when there is no sweep).
std::string add_importance_to_summary_json(const std::string& summary_json, const std::vector<ImportanceSweep>& sweeps);

}  // namespace hb::reports
