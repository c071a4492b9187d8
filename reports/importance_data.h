#pragma once
// Leave-one-out layer importance (hybench importance, issue 16) as stored in the layer_importance table:
// one value per layer of a full model (mean KL of the next-token distribution, or the score drop, with its 95%
// interval), the ranking, and the layers to convert to Mamba next. Pure functions plus one reader.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hb::reports {

class ResultsDb;
struct RunInfo;

struct LayerImportance {
  int layer = 0;
  std::string kind;  // "t" (attention) or "m2" (Mamba) in the full model
  int64_t n = 0;
  std::optional<double> value, stderr_, ci_low, ci_high;
  nlohmann::json details = nlohmann::json::object();
};

// One sweep: a full model, a metric (kl | score) and a mode (drop-mixer | drop-layer) in one run.
struct ImportanceSweep {
  std::string run, model, metric, mode;
  int64_t run_id = 0, model_id = 0;
  int num_layers = 0;                   // from the model's layout when known, else the highest layer + 1
  std::string layout;                   // letters per layer (A attention, M Mamba), from the models table
  int convert = 5;                      // K from the run's config (--convert), default 5
  std::vector<LayerImportance> layers;  // by layer index
};

// Rows of the given runs, one sweep per (run, model, metric, mode), ordered by run, model, metric, mode.
// A database written before the table existed gives none.
std::vector<ImportanceSweep> load_importance(const ResultsDb& db, const std::vector<RunInfo>& runs);

// Layer indices from most to least important (by value; a missing value ranks last; ties by index).
std::vector<int> rank_layers(const ImportanceSweep& sweep);

// The k attention layers of `layout` (letters, A = attention) with the lowest importance, least important
// first: the layers to convert to Mamba next. Layers not measured are never proposed. Fewer than k when fewer
// measured attention layers exist.
std::vector<int> next_conversions(const ImportanceSweep& sweep, const std::string& layout, int k);

// "A"/"M" per layer from a layout given as "t,m2,..." or letters "AAMM..." (Error{usage} on other codes or a
// length other than num_layers).
std::string layout_from_text(const std::string& text, int num_layers);

// The sweeps for summary.json: [{"run", "model", "metric", "mode", "layout", "ranking", "next_conversions",
// "layers": [{"layer", "kind", "n", "value", "stderr", "ci_low", "ci_high"}]}].
nlohmann::json importance_json(const std::vector<ImportanceSweep>& sweeps);

}  // namespace hb::reports
