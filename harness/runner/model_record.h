#pragma once
// The store's record of a model, from what its backend describes and what the user said.
#include <optional>
#include <string>

#include "harness/backends/backend.h"
#include "harness/store/store.h"

namespace hb::runner {

// "t,t,m2,t" (HF hybrid_block_layout style) or "AAMA" -> "AAMA": A attention, M Mamba, ? anything else.
std::string layout_letters(const std::string& layout);

// layout_override: a layout given by the user (endpoints do not describe their layers).
store::ModelRecord model_record(const std::string& spec, const std::string& display_name, const BackendInfo& info,
                                const std::optional<std::string>& layout_override = std::nullopt);

}  // namespace hb::runner
