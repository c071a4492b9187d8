#pragma once
// Test checkpoints for layer importance (issue 16): hybrid-tiny (layout t,m2,m2,t) rewritten with each layer's
// mixer output projection (o_proj / mixer.out_proj) scaled: a planted layer scaled up so that it dominates the
// residual stream, a zero factor for a layer whose mixer contributes nothing.
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <unistd.h>

#include "models/safetensors.h"
#include "tests/models/engine_test_util.h"

namespace hb::models::testing {

inline std::string mixer_out_name(int layer, bool attention) {
  return "model.layers." + std::to_string(layer) + (attention ? ".self_attn.o_proj.weight" : ".mixer.out_proj.weight");
}

// Writes DIR (a fresh temp folder named after `name`) with config.json, tokenizer.json and the rewritten weights.
// scale: layer index -> factor on its mixer output projection (layers not named keep theirs); mlp_scale: the
// same on the MLP's down projection.
inline std::string scaled_hybrid_checkpoint(const std::string& name, const std::map<int, float>& scale,
                                            const std::map<int, float>& mlp_scale = {}) {
  auto dir = std::filesystem::temp_directory_path() / ("hb_importance_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  for (const char* f : {"config.json", "tokenizer.json"})
    std::filesystem::copy_file(engine_data(std::string("hybrid-tiny/") + f), dir / f);
  SafetensorsFile src(engine_data("hybrid-tiny/model.safetensors"));
  const bool attention[4] = {true, false, false, true};
  std::vector<TensorToWrite> ts;
  for (const auto& [n, v] : src.tensors()) {
    TensorToWrite t{n, v.dtype, v.shape, std::string(reinterpret_cast<const char*>(v.data), v.nbytes)};
    std::map<std::string, float> factors;
    for (const auto& [layer, f] : scale) factors[mixer_out_name(layer, attention[layer])] = f;
    for (const auto& [layer, f] : mlp_scale) factors["model.layers." + std::to_string(layer) + ".mlp.down_proj.weight"] = f;
    for (const auto& [target, factor] : factors) {
      if (n != target) continue;
      if (v.dtype != WeightDType::bf16) throw std::runtime_error("hybrid-tiny is expected in BF16: " + n);
      // BF16 on disk: widen to fp32, scale, keep the upper half (exact for zero and powers of two).
      for (size_t i = 0; i + 1 < t.data.size(); i += 2) {
        uint32_t bits = uint32_t(uint8_t(t.data[i])) << 16 | uint32_t(uint8_t(t.data[i + 1])) << 24;
        float f;
        std::memcpy(&f, &bits, 4);
        f *= factor;
        std::memcpy(&bits, &f, 4);
        t.data[i] = char((bits >> 16) & 0xff);
        t.data[i + 1] = char((bits >> 24) & 0xff);
      }
    }
    ts.push_back(std::move(t));
  }
  write_safetensors((dir / "model.safetensors").string(), ts);
  return dir.string();
}

}  // namespace hb::models::testing
