#include "models/layer_drops.h"

#include <cerrno>
#include <cstdlib>
#include <set>

#include "harness/base/error.h"
#include "harness/base/strings.h"

namespace hb::models {
namespace {

int parse_index(const std::string& s, const std::string& what) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || end == s.c_str() || *end != '\0' || errno != 0 || v < 0 || v > 1000000 || s[0] == '+') {
    throw Error(ErrorCode::usage, what + ": '" + s + "' is not a layer index (a number >= 0, or a range such as 12-14)");
  }
  return int(v);
}

std::string join_ints(const std::vector<int>& xs) {
  std::vector<std::string> parts;
  for (int x : xs) parts.push_back(std::to_string(x));
  return join(parts, ",");
}

}  // namespace

std::string LayerDrops::spec_suffix() const {
  std::string s;
  if (!mixer.empty()) s += "drop_mixer=" + join_ints(mixer);
  if (!layer.empty()) s += (s.empty() ? "" : ",") + std::string("drop_layer=") + join_ints(layer);
  return s;
}

std::vector<LayerDrop> LayerDrops::per_layer(int num_layers) const {
  std::vector<LayerDrop> out(size_t(std::max(0, num_layers)), LayerDrop::keep);
  for (int i : mixer)
    if (i >= 0 && i < num_layers) out[size_t(i)] = LayerDrop::mixer;
  for (int i : layer)
    if (i >= 0 && i < num_layers) out[size_t(i)] = LayerDrop::layer;
  return out;
}

std::vector<int> parse_layer_indices(const std::string& list, const std::string& what) {
  std::vector<int> out;
  std::set<int> seen;
  for (const auto& raw : split(list, ',')) {
    std::string part(trim(raw));
    if (part.empty()) throw Error(ErrorCode::usage, what + ": empty entry in '" + list + "'; list layer indices such as 12,30");
    auto dash = part.find('-', 1);
    int lo, hi;
    if (dash != std::string::npos) {
      lo = parse_index(part.substr(0, dash), what);
      hi = parse_index(part.substr(dash + 1), what);
      if (hi < lo) throw Error(ErrorCode::usage, what + ": range '" + part + "' runs backwards; write it low-high");
    } else {
      lo = hi = parse_index(part, what);
    }
    for (int i = lo; i <= hi; ++i) {
      if (!seen.insert(i).second) {
        throw Error(ErrorCode::usage, what + ": layer " + std::to_string(i) + " is listed twice in '" + list + "'; list each layer once");
      }
      out.push_back(i);
    }
  }
  return out;
}

void validate_layer_drops(const LayerDrops& d, int num_layers, const std::string& model_name) {
  std::set<int> all;
  auto check = [&](const std::vector<int>& xs, const char* key) {
    std::set<int> seen;
    for (int i : xs) {
      if (i < 0 || i >= num_layers) {
        throw Error(ErrorCode::usage, std::string(key) + "=" + std::to_string(i) + ": " + model_name + " has layers 0.." +
                                          std::to_string(num_layers - 1) + "; pick an index in that range");
      }
      if (!seen.insert(i).second) {
        throw Error(ErrorCode::usage, std::string(key) + ": layer " + std::to_string(i) + " is listed twice; list each layer once");
      }
      if (!all.insert(i).second) {
        throw Error(ErrorCode::usage, "layer " + std::to_string(i) +
                                          " is in both drop_mixer and drop_layer; drop_layer already removes its mixer");
      }
    }
  };
  check(d.mixer, "drop_mixer");
  check(d.layer, "drop_layer");
  if (num_layers > 0 && int(all.size()) == num_layers) {
    throw Error(ErrorCode::usage, "the drops remove all " + std::to_string(num_layers) + " layers' mixers of " + model_name +
                                      " (nothing would mix tokens); keep at least one layer");
  }
}

}  // namespace hb::models
