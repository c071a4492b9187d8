#include <gtest/gtest.h>

#include "harness/base/error.h"
#include "models/model_config.h"
#include "models/presets.h"
#include "tests/models/engine_test_util.h"

namespace hb::models {
namespace {

nlohmann::json hybrid_json() { return read_json_file(testing::engine_data("hybrid-tiny/config.json")); }

TEST(ModelConfig, ReadsHybridValuesFromTheFile) {
  auto c = parse_model_config(hybrid_json(), "config.json");
  EXPECT_EQ(c.layout_string(), "t,m2,m2,t");
  EXPECT_EQ(c.attention_layers(), 2);
  EXPECT_EQ(c.mamba_layers(), 2);
  EXPECT_EQ(c.ssm.d_state, 4);
  EXPECT_EQ(c.ssm.d_inner, 32);
  EXPECT_EQ(c.ssm.d_xb, 16);
  EXPECT_EQ(c.ssm.dt_rank, 4);
  EXPECT_EQ(c.head_dim, 8);
}

TEST(ModelConfig, ReadsMistralWithRopeParameters) {
  auto c = load_model_config(testing::engine_data("mistral-tiny"));
  EXPECT_EQ(c.model_type, "mistral");
  EXPECT_EQ(c.num_layers(), 2);
  EXPECT_EQ(c.mamba_layers(), 0);
  EXPECT_DOUBLE_EQ(c.rope_theta, 10000.0);
}

TEST(ModelConfig, LlamaIsADenseTeacher) {
  auto j = read_json_file(testing::engine_data("mistral-tiny/config.json"));
  j["model_type"] = "llama";
  j["architectures"] = {"LlamaForCausalLM"};
  j.erase("head_dim");  // a file without head_dim falls back to hidden / heads
  auto c = parse_model_config(j, "config.json");
  EXPECT_EQ(c.head_dim, 32 / 4);
  EXPECT_EQ(c.layout_string(), "t,t");
  j["rope_parameters"] = {{"rope_type", "llama3"}, {"rope_theta", 5e5}};
  EXPECT_THROW(parse_model_config(j, "config.json"), Error);
}

void expect_config_error(const nlohmann::json& j, const std::string& needle) {
  try {
    parse_model_config(j, "config.json");
    FAIL() << "expected an error mentioning " << needle;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::config);
    EXPECT_NE(e.message().find(needle), std::string::npos) << e.message();
  }
}

TEST(ModelConfig, UnsupportedThingsFailWithTheirName) {
  auto j = hybrid_json();
  j["hybrid_block_layout"][2] = "m2d";
  expect_config_error(j, "unsupported layer type 'm2d' at layer 2");
  j = hybrid_json();
  j["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
  expect_config_error(j, "rope_scaling of type 'yarn'");
  j = hybrid_json();
  j["model_type"] = "jamba";
  expect_config_error(j, "unsupported model_type 'jamba'");
  j = hybrid_json();
  j["ssm_cfg"].erase("d_state");
  expect_config_error(j, "'d_state'");
  j = hybrid_json();
  j["sliding_window"] = "4096";
  expect_config_error(j, "field 'sliding_window' = \"4096\"");
  j["sliding_window"] = 0;
  expect_config_error(j, "field 'sliding_window' = 0");
  j = hybrid_json();
  j["ssm_cfg"]["bias"] = true;
  expect_config_error(j, "config.json ssm_cfg: unsupported field 'bias' = true");
  j = hybrid_json();
  j["ssm_cfg"]["conv_bias"] = "yes";
  expect_config_error(j, "field 'conv_bias' must be true or false, got \"yes\"");
  j = hybrid_json();
  j["ssm_cfg"]["d_inner"] = nullptr;
  j["ssm_cfg"].erase("expand");
  expect_config_error(j, "'d_inner' is null");
  j = hybrid_json();
  j["hybrid_block_layout"][1] = 2;
  expect_config_error(j, "hybrid_block_layout entry 1 = 2 is not a string");
  j = hybrid_json();
  j["num_hidden_layers"] = 5;
  expect_config_error(j, "hybrid_block_layout has 4 entries");
  j = hybrid_json();
  j["hidden_act"] = "gelu";
  expect_config_error(j, "hidden_act");
}

// What the authors' config classes write (AprielSSMHybridConfig / AprielHybridSSMConfig are MistralConfig
// subclasses filling ssm_cfg from their defaults): all of it loads, under each of the family's model_type
// spellings; sliding_window is kept as Mistral keeps it, ssm_cfg.activation is ignored for m2.
TEST(ModelConfig, UpstreamWrittenFieldsLoadUnderEveryModelType) {
  for (const std::string type : {"apriel_ssm_thinker_hybrid", "apriel_hybrid_ssm", "apriel_h"}) {
    auto j = hybrid_json();
    j["model_type"] = type;
    j["sliding_window"] = 4096;
    j["attention_dropout"] = 0.0;
    j["initializer_range"] = 0.02;
    j["use_cache"] = true;
    j["ssm_cfg"].update({{"activation", "identity"}, {"bias", false}, {"chunk_size", 128}, {"dt_init", "random"},
                         {"dt_init_floor", 1e-4}, {"dt_max", 0.1}, {"dt_min", 0.001}, {"dt_scale", 1.0}, {"expand", 1},
                         {"n_qk_heads", 32}, {"n_v_heads", 32}, {"dt_rank", "auto"}});
    auto c = parse_model_config(j, "config.json");
    EXPECT_EQ(c.model_type, type);
    EXPECT_EQ(c.sliding_window, 4096);
    EXPECT_EQ(c.ssm.dt_rank, (c.hidden_size + 15) / 16);
    EXPECT_EQ(c.to_json()["sliding_window"], 4096);
  }
}

TEST(ModelConfig, SlidingWindowAsTransformersTreatsIt) {
  auto j = read_json_file(testing::engine_data("mistral-tiny/config.json"));
  j["sliding_window"] = nullptr;
  EXPECT_EQ(parse_model_config(j, "config.json").sliding_window, 0);  // null: full attention
  j.erase("sliding_window");
  EXPECT_EQ(parse_model_config(j, "config.json").sliding_window, 0);
  j["sliding_window"] = 7;
  EXPECT_EQ(parse_model_config(j, "config.json").sliding_window, 7);
  j["use_sliding_window"] = false;  // Qwen-style switch
  EXPECT_EQ(parse_model_config(j, "config.json").sliding_window, 0);
  j.erase("use_sliding_window");
  j["model_type"] = "llama";  // LlamaModel never reads the field
  EXPECT_EQ(parse_model_config(j, "config.json").sliding_window, 0);
  EXPECT_EQ(load_model_config(testing::engine_data("bytelevel-tiny")).sliding_window, 5);
}

// Upstream's m2 mixer fills missing widths from the model: d_xb = hidden, d_inner = expand * hidden.
TEST(ModelConfig, NullMambaWidthsFallBackAsUpstream) {
  auto j = hybrid_json();
  j["ssm_cfg"]["d_xb"] = nullptr;
  j["ssm_cfg"]["d_inner"] = nullptr;
  j["ssm_cfg"]["expand"] = 2;
  j["ssm_cfg"]["d_state"] = 4;
  auto c = parse_model_config(j, "config.json");
  EXPECT_EQ(c.ssm.d_xb, c.hidden_size);
  EXPECT_EQ(c.ssm.d_inner, 2 * c.hidden_size);
}

// The two checkpoints written by the authors' code, exactly as saved (skipped where the shared folder is absent).
TEST(ModelConfig, UpstreamCheckpointConfigsLoadAsWritten) {
  const std::string root = HB_TEST_CHECKPOINTS_DIR "/apriel-hybrid-upstream-tiny";
  if (!file_exists(root + "/tmmt/config.json")) GTEST_SKIP() << "no upstream checkpoints at " << root;
  auto t = load_model_config(root + "/tmmt");
  EXPECT_EQ(t.layout_string(), "t,m2,m2,t");
  EXPECT_EQ(t.sliding_window, 4096);
  EXPECT_EQ(t.ssm.d_inner, 128);
  EXPECT_EQ(load_model_config(root + "/mmmm").layout_string(), "m2,m2,m2,m2");
}

TEST(ModelConfig, FifteenBPresetsMatchTheSpecArithmetic) {
  auto t = preset_config("apriel-h1-15b/teacher");
  EXPECT_EQ(t.params(), 14974182400LL);  // spec 2.1
  EXPECT_EQ(t.attention_mixer_params(), 52428800);
  auto h30 = preset_config("apriel-h1-15b/h30");
  EXPECT_EQ(h30.mamba_layers(), 30);
  EXPECT_EQ(h30.mamba_mixer_params(), 73641984);  // spec 3.1
  EXPECT_EQ(h30.kv_bytes_per_token(), 81920);     // spec 5.1
  EXPECT_EQ(h30.state_bytes_per_sequence(2, 2), 30 * 155648LL);
  EXPECT_EQ(h30.state_bytes_per_sequence(), 30 * 286720LL);
  const std::map<std::string, int> counts = {{"h25", 25}, {"h27", 27}, {"h30", 30}, {"h34", 34}, {"h37", 37}, {"h40", 40}};
  for (const auto& [v, n] : counts) {
    EXPECT_EQ(preset_config("apriel-h1-15b/" + v).mamba_layers(), n) << v;
    EXPECT_EQ(preset_config("tiny/" + v).mamba_layers(), n) << v;
  }
  // spec 5.2: teacher B=1 at 16K about 105-111 tok/s; H-30 slightly higher at long context.
  double b1 = h100_decode_bound_tokens_per_s(t, 1, 16384);
  EXPECT_GT(b1, 95);
  EXPECT_LT(b1, 115);
  EXPECT_THROW(preset_config("tiny/h31"), Error);
}

}  // namespace
}  // namespace hb::models
