#pragma once
// Random-weight model presets, so throughput and plumbing can be studied without a checkpoint.
//   apriel-h1-15b/{teacher,h25,h27,h30,h34,h37,h40}: the 15B shapes (spec 2.1) and layouts (spec 4.2; documented
//     choices for the layouts the spec does not know, see presets.cpp). Big: describe/inspect only in tests.
//   tiny/{teacher,h25,h27,h30,h34,h37,h40,mamba}: the same 50-layer layouts at toy width (hidden 64), a
//     byte-level vocabulary; run in seconds on 2 CPU cores. tiny/mamba is all-m2 (for the flat-decode bench).
// Weights are drawn from a seeded generator (seed fixed per preset name), so runs are reproducible.
#include <string>
#include <vector>

#include "models/model_config.h"

namespace hb::models {

// Names accepted after "preset:".
std::vector<std::string> preset_names();
// Throws Error{config} naming the closest preset when `name` is unknown.
ModelConfig preset_config(const std::string& name);
// Seed used for a preset's random weights (stable hash of the name).
uint64_t preset_seed(const std::string& name);

}  // namespace hb::models
