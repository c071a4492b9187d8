#include "suites/common/reasoning.h"

#include "harness/base/strings.h"

namespace hb::suites {

const std::vector<std::string>& default_reasoning_markers() {
  static const std::vector<std::string> markers = {"</think>", "[BEGIN FINAL RESPONSE]|[END FINAL RESPONSE]"};
  return markers;
}

ReasoningSplit split_reasoning(std::string_view text, const std::vector<std::string>& markers_in) {
  const auto& markers = markers_in.empty() ? default_reasoning_markers() : markers_in;
  ReasoningSplit out;
  for (const auto& marker : markers) {
    auto bar = marker.find('|');
    std::string open = bar == std::string::npos ? marker : marker.substr(0, bar);
    std::string close = bar == std::string::npos ? "" : marker.substr(bar + 1);
    if (open.empty()) continue;
    size_t pos = text.rfind(open);
    if (pos == std::string_view::npos) continue;
    out.found = true;
    out.reasoning = std::string(text.substr(0, pos));
    std::string_view rest = text.substr(pos + open.size());
    if (!close.empty()) {
      size_t end = rest.find(close);
      if (end != std::string_view::npos) rest = rest.substr(0, end);
    }
    out.answer = std::string(trim(rest));
    return out;
  }
  // A thinking block that was opened and never closed (cut by the token limit): no answer at all.
  size_t think = text.find("<think>");
  if (think != std::string_view::npos && trim(text.substr(0, think)).empty()) {
    out.found = true;
    out.unterminated = true;
    out.reasoning = std::string(text);
    return out;
  }
  out.answer = std::string(text);
  return out;
}

}  // namespace hb::suites
