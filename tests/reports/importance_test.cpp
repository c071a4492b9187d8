// Layer-importance reading, ranking, conversion proposal, chart and summary.json hook (reports/importance_*,
// issue 16).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "harness/base/error.h"
#include "harness/store/store.h"
#include "reports/importance_chart.h"
#include "reports/importance_data.h"
#include "reports/results_db.h"

namespace hb::reports {
namespace {

ImportanceSweep sweep_of(const std::vector<std::optional<double>>& values, const std::string& layout) {
  ImportanceSweep s;
  s.run = "r";
  s.model = "m <1>";
  s.metric = "kl";
  s.mode = "drop-mixer";
  s.layout = layout;
  s.num_layers = int(layout.size());
  for (size_t i = 0; i < values.size(); ++i) {
    LayerImportance l;
    l.layer = int(i);
    l.kind = layout[i] == 'M' ? "m2" : "t";
    l.n = 8;
    l.value = values[i];
    if (values[i]) {
      l.ci_low = *values[i] - 0.01;
      l.ci_high = *values[i] + 0.01;
    }
    s.layers.push_back(l);
  }
  return s;
}

TEST(Importance, RankingTiesByIndexAndMissingValuesLast) {
  auto s = sweep_of({0.2, std::nullopt, 0.5, 0.2, 0.1}, "AAMAA");
  EXPECT_EQ(rank_layers(s), (std::vector<int>{2, 0, 3, 4, 1}));
}

TEST(Importance, NextConversionsAreTheLeastImportantMeasuredAttentionLayers) {
  auto s = sweep_of({0.2, std::nullopt, 0.05, 0.3, 0.1}, "AAMAA");
  // Layer 2 is Mamba already and layer 1 was not measured: neither is proposed.
  EXPECT_EQ(next_conversions(s, "AAMAA", 2), (std::vector<int>{4, 0}));
  EXPECT_EQ(next_conversions(s, "AAMAA", 10), (std::vector<int>{4, 0, 3}));
  // Another current layout (layer 4 converted already) changes the proposal.
  EXPECT_EQ(next_conversions(s, "AAMAM", 2), (std::vector<int>{0, 3}));
}

TEST(Importance, LayoutText) {
  EXPECT_EQ(layout_from_text("t, m2,t", 3), "AMA");
  EXPECT_EQ(layout_from_text("AMa", 3), "AMA");
  EXPECT_THROW(layout_from_text("t,m3,t", 3), Error);
  EXPECT_THROW(layout_from_text("AXA", 3), Error);
  try {
    layout_from_text("t,m2", 3);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::usage);
    EXPECT_NE(e.message().find("layout has 2 layers but the model has 3"), std::string::npos);
  }
}

TEST(Importance, ChartMarksMambaLayersAndTheProposal) {
  auto s = sweep_of({0.2, 0.4, 0.05, 0.3, 0.1}, "AMAAM");
  s.convert = 2;
  const std::string svg = render_importance_svg(s);
  size_t bars = 0;
  for (size_t p = svg.find("<rect class=\"bar"); p != std::string::npos; p = svg.find("<rect class=\"bar", p + 1)) ++bars;
  EXPECT_EQ(bars, 5u);
  EXPECT_NE(svg.find("class=\"bar attention proposed\" data-layer=\"2\""), std::string::npos);
  EXPECT_NE(svg.find("class=\"bar attention proposed\" data-layer=\"0\""), std::string::npos);
  EXPECT_EQ(svg.find("proposed\" data-layer=\"3\""), std::string::npos);
  EXPECT_NE(svg.find("class=\"bar mamba\" data-layer=\"4\""), std::string::npos);
  EXPECT_NE(svg.find("m &lt;1&gt;"), std::string::npos) << "names are escaped";
  EXPECT_EQ(svg.find("m <1>"), std::string::npos);
  const std::string html = render_importance_section({s});
  EXPECT_NE(html.find("Convert next (2 of 2 asked, least important attention layers first): <b>2, 0</b>"), std::string::npos);
  EXPECT_EQ(render_importance_section({}), "");
}

TEST(Importance, SummaryJsonUnchangedWithoutSweepsAndAppendedWithThem) {
  const std::string base = "{\n  \"schema_version\": 1,\n  \"rows\": []\n}\n";
  EXPECT_EQ(add_importance_to_summary_json(base, {}), base);
  auto j = nlohmann::ordered_json::parse(add_importance_to_summary_json(base, {sweep_of({0.2, 0.1}, "AA")}));
  auto it = j.begin();
  EXPECT_EQ(it.key(), "schema_version");
  EXPECT_EQ((++it).key(), "rows");
  EXPECT_EQ((++it).key(), "importance");
  EXPECT_EQ(j["importance"][0]["ranking"], nlohmann::ordered_json::parse("[0, 1]"));
  EXPECT_EQ(j["importance"][0]["next_conversions"], nlohmann::ordered_json::parse("[1, 0]"));
  EXPECT_EQ(j["importance"][0]["layers"][1]["value"], 0.1);
}

TEST(Importance, LoadsStoredRowsAndToleratesADatabaseWithoutTheTable) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("hb_importance_reports_" + std::to_string(::getpid()) + ".db")).string();
  std::filesystem::remove(path);
  {
    store::Store st(path);
    auto run = st.open_run("sweep", "importance", {{"convert", 3}});
    auto model = st.ensure_model({"native:x", "full", std::string("AMA"), 2, 1, 10, {}});
    st.write_sync([&](store::Db& db) {
      for (int layer : {2, 0, 1}) {
        db.prepare("INSERT INTO layer_importance (run_id, model_id, metric, mode, layer, layer_kind, n, value, stderr, ci_low, "
                   "ci_high) VALUES (?, ?, 'kl', 'drop-mixer', ?, ?, 4, ?, 0.01, NULL, NULL)")
            .bind(1, run.id)
            .bind(2, model)
            .bind(3, layer)
            .bind(4, layer == 1 ? "m2" : "t")
            .bind(5, 0.1 * (layer + 1))
            .run();
      }
    });
  }
  {
    ResultsDb db(path);
    auto sweeps = load_importance(db, db.select_runs({}));
    ASSERT_EQ(sweeps.size(), 1u);
    EXPECT_EQ(sweeps[0].model, "full");
    EXPECT_EQ(sweeps[0].layout, "AMA");
    EXPECT_EQ(sweeps[0].convert, 3);
    ASSERT_EQ(sweeps[0].layers.size(), 3u);
    EXPECT_EQ(sweeps[0].layers[0].layer, 0);
    EXPECT_FALSE(sweeps[0].layers[0].ci_low.has_value());
    EXPECT_EQ(rank_layers(sweeps[0]), (std::vector<int>{2, 1, 0}));
  }
  {
    store::Db raw(path, store::Db::Mode::read_write_create);
    raw.exec("DROP TABLE layer_importance");
  }
  ResultsDb db(path);
  EXPECT_TRUE(load_importance(db, db.select_runs({})).empty());
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace hb::reports
