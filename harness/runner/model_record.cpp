#include "harness/runner/model_record.h"

#include <algorithm>

#include "harness/base/strings.h"

namespace hb::runner {

std::string layout_letters(const std::string& layout) {
  if (layout.find(',') == std::string::npos && layout.find_first_not_of("AM") == std::string::npos) return layout;
  std::string out;
  for (const auto& part : split(layout, ',')) {
    std::string t = to_lower(trim(part));
    if (t.empty()) continue;
    out += (t == "t" || t == "a" || t == "attention") ? 'A' : (t[0] == 'm') ? 'M' : '?';
  }
  return out;
}

store::ModelRecord model_record(const std::string& spec, const std::string& display_name, const BackendInfo& info,
                                const std::optional<std::string>& layout_override) {
  store::ModelRecord rec;
  rec.spec = info.spec.empty() ? spec : info.spec;
  rec.display_name = display_name;
  rec.details = info.details;
  std::string layout = layout_override.value_or(
      info.details.contains("layout") && info.details["layout"].is_string() ? info.details["layout"].get<std::string>() : "");
  if (!layout.empty()) {
    rec.layout = layout_letters(layout);
    rec.attention_layers = static_cast<int64_t>(std::count(rec.layout->begin(), rec.layout->end(), 'A'));
    rec.mamba_layers = static_cast<int64_t>(std::count(rec.layout->begin(), rec.layout->end(), 'M'));
  }
  if (info.details.contains("params") && info.details["params"].is_number_integer())
    rec.params = info.details["params"].get<int64_t>();
  return rec;
}

}  // namespace hb::runner
