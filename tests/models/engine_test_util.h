#pragma once
// Shared helpers of the engine tests: paths of the committed checkpoints and golden logits.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/base/files.h"

namespace hb::models::testing {

inline std::string engine_data(const std::string& rel) { return std::string(HB_TEST_DATA_DIR) + "/engine/" + rel; }

inline const nlohmann::json& goldens() {
  static const nlohmann::json j = read_json_file(engine_data("golden_logits.json"));
  return j;
}

inline double max_abs_diff(const std::vector<float>& a, const std::vector<double>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) m = std::max(m, std::abs(double(a[i]) - b[i]));
  return a.size() == b.size() ? m : 1e30;
}

}  // namespace hb::models::testing
