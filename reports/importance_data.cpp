#include "reports/importance_data.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "harness/base/error.h"
#include "harness/base/strings.h"
#include "harness/store/sqlite.h"
#include "reports/format.h"
#include "reports/results_db.h"

namespace hb::reports {
namespace {

std::optional<double> opt(const store::Stmt& s, int col) {
  if (s.is_null(col)) return std::nullopt;
  return s.real(col);
}

bool table_exists(store::Db& db) {
  auto s = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'layer_importance'");
  return s.step();
}

nlohmann::json num(const std::optional<double>& v) {
  if (!v || *v != *v) return nullptr;
  return rounded(*v, 6);
}

}  // namespace

std::vector<ImportanceSweep> load_importance(const ResultsDb& db, const std::vector<RunInfo>& runs) {
  std::vector<ImportanceSweep> out;
  auto& conn = db.connection();
  if (runs.empty() || !table_exists(conn)) return out;
  std::map<std::tuple<int64_t, int64_t, std::string, std::string>, ImportanceSweep> by_key;
  for (const auto& run : runs) {
    auto s = conn.prepare(
        "SELECT li.model_id, m.display_name, COALESCE(m.layout, ''), li.metric, li.mode, li.layer, li.layer_kind, li.n, "
        "li.value, li.stderr, li.ci_low, li.ci_high, COALESCE(li.details_json, '{}') "
        "FROM layer_importance li JOIN models m ON m.id = li.model_id WHERE li.run_id = ?");
    s.bind(1, run.id);
    while (s.step()) {
      auto key = std::make_tuple(run.id, s.int64(0), s.text(3), s.text(4));
      auto& sw = by_key[key];
      if (sw.run.empty()) {
        sw.run = run.name;
        sw.run_id = run.id;
        sw.model_id = s.int64(0);
        sw.model = s.text(1);
        sw.layout = s.text(2);
        sw.metric = s.text(3);
        sw.mode = s.text(4);
        if (run.config.is_object() && run.config.contains("convert") && run.config["convert"].is_number_integer())
          sw.convert = run.config["convert"].get<int>();
      }
      LayerImportance li;
      li.layer = int(s.int64(5));
      li.kind = s.text(6);
      li.n = s.int64(7);
      li.value = opt(s, 8);
      li.stderr_ = opt(s, 9);
      li.ci_low = opt(s, 10);
      li.ci_high = opt(s, 11);
      li.details = nlohmann::json::parse(s.text(12), nullptr, false);
      if (li.details.is_discarded()) li.details = nlohmann::json::object();
      sw.layers.push_back(std::move(li));
    }
  }
  for (auto& [key, sw] : by_key) {
    std::sort(sw.layers.begin(), sw.layers.end(), [](const auto& a, const auto& b) { return a.layer < b.layer; });
    sw.num_layers = int(sw.layout.size());
    if (!sw.layers.empty()) sw.num_layers = std::max(sw.num_layers, sw.layers.back().layer + 1);
    out.push_back(std::move(sw));
  }
  std::sort(out.begin(), out.end(), [](const ImportanceSweep& a, const ImportanceSweep& b) {
    return std::tie(a.run, a.model, a.model_id, a.metric, a.mode) < std::tie(b.run, b.model, b.model_id, b.metric, b.mode);
  });
  return out;
}

std::vector<int> rank_layers(const ImportanceSweep& sweep) {
  std::vector<const LayerImportance*> ls;
  for (const auto& l : sweep.layers) ls.push_back(&l);
  std::stable_sort(ls.begin(), ls.end(), [](const LayerImportance* a, const LayerImportance* b) {
    const bool ha = a->value && *a->value == *a->value, hb = b->value && *b->value == *b->value;
    if (ha != hb) return ha;
    if (ha && *a->value != *b->value) return *a->value > *b->value;
    return a->layer < b->layer;
  });
  std::vector<int> out;
  for (const auto* l : ls) out.push_back(l->layer);
  return out;
}

std::vector<int> next_conversions(const ImportanceSweep& sweep, const std::string& layout, int k) {
  auto ranked = rank_layers(sweep);
  std::vector<int> out;
  for (auto it = ranked.rbegin(); it != ranked.rend() && int(out.size()) < k; ++it) {
    const int layer = *it;
    const LayerImportance* li = nullptr;
    for (const auto& l : sweep.layers)
      if (l.layer == layer) li = &l;
    if (!li || !li->value || *li->value != *li->value) continue;  // not measured
    const bool attention = layer < int(layout.size()) ? layout[size_t(layer)] == 'A' : li->kind == "t";
    if (attention) out.push_back(layer);
  }
  return out;
}

std::string layout_from_text(const std::string& text, int num_layers) {
  std::string letters;
  const std::string t(trim(text));
  if (t.find(',') != std::string::npos || t == "t" || t == "m2") {
    for (const auto& raw : split(t, ',')) {
      const std::string code(trim(raw));
      if (code == "t") letters += 'A';
      else if (code == "m2") letters += 'M';
      else throw Error(ErrorCode::usage, "layout entry '" + code + "' is not t (attention) or m2 (Mamba); write e.g. t,m2,t");
    }
  } else {
    for (char ch : t) {
      if (ch == 'A' || ch == 'a') letters += 'A';
      else if (ch == 'M' || ch == 'm') letters += 'M';
      else throw Error(ErrorCode::usage, std::string("layout letter '") + ch + "' is not A (attention) or M (Mamba); write e.g. AAMA");
    }
  }
  if (int(letters.size()) != num_layers) {
    throw Error(ErrorCode::usage, "layout has " + std::to_string(letters.size()) + " layers but the model has " +
                                      std::to_string(num_layers) + "; give one code per layer");
  }
  return letters;
}

nlohmann::json importance_json(const std::vector<ImportanceSweep>& sweeps) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& sw : sweeps) {
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& l : sw.layers) {
      layers.push_back({{"layer", l.layer}, {"kind", l.kind}, {"n", l.n}, {"value", num(l.value)},
                        {"stderr", num(l.stderr_)}, {"ci_low", num(l.ci_low)}, {"ci_high", num(l.ci_high)}});
    }
    out.push_back({{"run", sw.run},
                   {"model", sw.model},
                   {"metric", sw.metric},
                   {"mode", sw.mode},
                   {"layout", sw.layout},
                   {"ranking", rank_layers(sw)},
                   {"convert", sw.convert},
                   {"next_conversions", next_conversions(sw, sw.layout, sw.convert)},
                   {"layers", layers}});
  }
  return out;
}

}  // namespace hb::reports
