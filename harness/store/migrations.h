#pragma once
#include <string>
#include <vector>

namespace hb::store {
// The SQL of each migration, in order; index i holds migration i+1.
const std::vector<std::string>& migrations();
}  // namespace hb::store
