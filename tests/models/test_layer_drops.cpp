// drop_mixer / drop_layer (issue 16) on the CPU reference: the spec syntax and its errors, exact equivalence with
// checkpoints whose weights make the same change, and SequenceLogits' KL (0 for a mixer whose weights are zero,
// the planted layer first).
#include <gtest/gtest.h>

#include <algorithm>

#include "harness/backends/native_backend.h"
#include "harness/base/error.h"
#include "models/layer_drops.h"
#include "models/model.h"
#include "models/sequence_logits.h"
#include "tests/models/engine_test_util.h"
#include "tests/models/planted_checkpoint.h"

namespace hb::models {
namespace {

using testing::engine_data;
using testing::scaled_hybrid_checkpoint;

const std::vector<int32_t> kTokens = {1, 72, 101, 108, 108, 111, 44, 32, 119, 111, 114, 108, 100, 33, 10, 50, 43, 50};

std::vector<float> logits_of(Model& m, const std::vector<int32_t>& tokens) {
  int seq = m.create_sequence(int64_t(tokens.size()));
  auto out = m.forward({{seq, tokens}}, /*all_logits=*/true)[0];
  m.release_sequence(seq);
  return out;
}

std::string usage_error(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::usage) << e.message();
    return e.message();
  }
  ADD_FAILURE() << "no error";
  return "";
}

TEST(LayerDrops, SpecSyntaxListsRangesAndOtherOptions) {
  auto s = parse_native_spec("preset:tiny/h30,drop_mixer=12,30,device=cpu,drop_layer=4-6", NativeOptions{});
  EXPECT_EQ(s.target, "preset:tiny/h30");
  EXPECT_EQ(s.options.device, "cpu");
  EXPECT_EQ(s.options.drops.mixer, (std::vector<int>{12, 30}));
  EXPECT_EQ(s.options.drops.layer, (std::vector<int>{4, 5, 6}));
  EXPECT_EQ(s.options.drops.spec_suffix(), "drop_mixer=12,30,drop_layer=4,5,6");
  // The suffix parses back to the same set.
  auto again = parse_native_spec("preset:tiny/h30," + s.options.drops.spec_suffix(), NativeOptions{});
  EXPECT_EQ(again.options.drops.mixer, s.options.drops.mixer);
  EXPECT_EQ(again.options.drops.layer, s.options.drops.layer);
}

TEST(LayerDrops, BadSpecsAreUsageErrorsNamingTheValue) {
  EXPECT_NE(usage_error([] { parse_native_spec("preset:tiny/h30,drop_mixer=3,3", {}); }).find("layer 3 is listed twice"),
            std::string::npos);
  EXPECT_NE(usage_error([] { parse_native_spec("preset:tiny/h30,drop_mixer=2-5,4", {}); }).find("layer 4 is listed twice"),
            std::string::npos);
  EXPECT_NE(usage_error([] { parse_native_spec("preset:tiny/h30,drop_mixer=x", {}); }).find("'x' is not a layer index"),
            std::string::npos);
  EXPECT_NE(usage_error([] { parse_native_spec("preset:tiny/h30,drop_mixer=-1", {}); }).find("is not a layer index"),
            std::string::npos);
  EXPECT_NE(usage_error([] { parse_native_spec("preset:tiny/h30,drop_mixer=5-2", {}); }).find("runs backwards"),
            std::string::npos);
  EXPECT_NE(usage_error([] { parse_native_spec("preset:tiny/h30,drop_mixer=1,drop_mixer=2", {}); }).find("repeats the key"),
            std::string::npos);
  EXPECT_NE(usage_error([] { parse_native_spec("preset:tiny/h30,drop_mixr=1", {}); }).find("did you mean 'drop_mixer'"),
            std::string::npos);
}

TEST(LayerDrops, LoadRejectsOutOfRangeBothListsAndEveryLayer) {
  const std::string ckpt = engine_data("hybrid-tiny");  // 4 layers
  auto load_with = [&](LayerDrops d) {
    ModelOptions o;
    o.drops = std::move(d);
    Model::load(ckpt, o);
  };
  EXPECT_NE(usage_error([&] { load_with({{4}, {}}); }).find("drop_mixer=4: 'hybrid-tiny' has layers 0..3"), std::string::npos);
  EXPECT_NE(usage_error([&] { load_with({{}, {9}}); }).find("drop_layer=9"), std::string::npos);
  EXPECT_NE(usage_error([&] { load_with({{1}, {1}}); }).find("in both drop_mixer and drop_layer"), std::string::npos);
  EXPECT_NE(usage_error([&] { load_with({{0, 1}, {2, 3}}); }).find("remove all 4 layers"), std::string::npos);
  EXPECT_NE(usage_error([&] { load_with({{0, 1, 2, 3}, {}}); }).find("keep at least one layer"), std::string::npos);
  // Three of four is allowed.
  EXPECT_NO_THROW(load_with({{0, 1}, {2}}));
}

TEST(LayerDrops, DropMixerEqualsZeroedMixerWeightsAndDropLayerSkipsTheMlpToo) {
  const std::string ckpt = engine_data("hybrid-tiny");
  auto full = Model::load(ckpt);
  const auto ref = logits_of(*full, kTokens);
  // An empty drop set is the full model, bit for bit.
  full->set_layer_drops({});
  EXPECT_EQ(logits_of(*full, kTokens), ref);
  for (int layer : {0, 1}) {  // an attention and an m2 layer
    const std::string zeroed = scaled_hybrid_checkpoint("zero" + std::to_string(layer), {{layer, 0.f}});
    auto z = Model::load(zeroed);
    const auto want = logits_of(*z, kTokens);
    ModelOptions o;
    o.drops.mixer = {layer};
    auto dropped = Model::load(ckpt, o);
    const auto got = logits_of(*dropped, kTokens);
    EXPECT_EQ(got, want) << "drop_mixer=" << layer << " must equal a zero mixer output projection exactly";
    EXPECT_NE(got, ref);
    // drop_layer also removes the MLP: different from drop_mixer.
    dropped->set_layer_drops({{}, {layer}});
    EXPECT_NE(logits_of(*dropped, kTokens), got);
    // And set_layer_drops back to nothing restores the full model exactly.
    dropped->set_layer_drops({});
    EXPECT_EQ(logits_of(*dropped, kTokens), ref);
  }
}

TEST(LayerDrops, DropLayerEqualsZeroedBlockOutputs) {
  // Zero mixer and MLP output projections make a block add nothing: exactly what skipping it does.
  for (int layer : {2, 3}) {
    ModelOptions o;
    o.drops.layer = {layer};
    auto dropped = Model::load(engine_data("hybrid-tiny"), o);
    auto zeroed = Model::load(scaled_hybrid_checkpoint("block" + std::to_string(layer), {{layer, 0.f}}, {{layer, 0.f}}));
    EXPECT_EQ(logits_of(*dropped, kTokens), logits_of(*zeroed, kTokens)) << "drop_layer=" << layer;
  }
}

TEST(SequenceLogits, LogitsMatchTheModelAndKlOfAZeroMixerIsZero) {
  const std::string ckpt = scaled_hybrid_checkpoint("kl", {{1, 0.f}});
  ModelOptions o;
  o.device = "cpu";
  auto lm = SequenceLogits::load(ckpt, o);
  auto model = Model::load(ckpt);
  std::vector<std::vector<int32_t>> seqs = {kTokens, {1, 60, 61, 62}, std::vector<int32_t>(kTokens.begin(), kTokens.begin() + 7)};
  auto all = lm->logits(seqs);
  ASSERT_EQ(all.size(), 3u);
  for (size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(all[i], logits_of(*model, seqs[i])) << i;
  auto kl = lm->kl_per_sequence(seqs, {LayerDrops{{1}, {}}, LayerDrops{{2}, {}}, LayerDrops{}, LayerDrops{{}, {1}}});
  ASSERT_EQ(kl.size(), 4u);
  for (size_t s = 0; s < seqs.size(); ++s) {
    EXPECT_EQ(kl[0][s], 0.0) << "the mixer of layer 1 is zero: removing it changes nothing";
    EXPECT_GT(kl[1][s], 1e-6);
    EXPECT_EQ(kl[2][s], 0.0) << "dropping nothing";
    EXPECT_GT(kl[3][s], 1e-6) << "drop_layer also removes the MLP of layer 1";
  }
  // The drops are restored: logits are again the full model's.
  EXPECT_EQ(lm->logits({kTokens})[0], all[0]);
  // Bad variants are usage errors before any work.
  usage_error([&] { lm->kl_per_sequence(seqs, {LayerDrops{{7}, {}}}); });
}

TEST(SequenceLogits, PlantedLayerHasTheLargestKl) {
  // Layer 0 (attention) scaled up 8x, the others down to a quarter: removing layer 0 must cost the most. (A
  // planted late layer would amplify every upstream change instead of dominating on its own.)
  const std::string ckpt = scaled_hybrid_checkpoint("planted", {{0, 8.f}, {1, 0.25f}, {2, 0.25f}, {3, 0.25f}});
  ModelOptions o;
  o.device = "cpu";
  o.gpu_max_sequences = 2;  // two passes over three sequences: batching must not change the result
  auto lm = SequenceLogits::load(ckpt, o);
  std::vector<std::vector<int32_t>> seqs = {kTokens, {1, 60, 61, 62, 63, 64}, {1, 200, 201, 7}};
  std::vector<LayerDrops> variants;
  for (int l = 0; l < 4; ++l) variants.push_back({{l}, {}});
  auto kl = lm->kl_per_sequence(seqs, variants);
  std::vector<double> mean(4, 0.0);
  for (int l = 0; l < 4; ++l)
    for (double x : kl[size_t(l)]) mean[size_t(l)] += x / 3.0;
  for (int l = 1; l < 4; ++l) EXPECT_GT(mean[0], 2 * mean[size_t(l)]) << "layer " << l;
  // One pass with all three sequences gives the same values.
  o.gpu_max_sequences = 8;
  auto one = SequenceLogits::load(ckpt, o)->kl_per_sequence(seqs, variants);
  for (int l = 0; l < 4; ++l)
    for (size_t s = 0; s < 3; ++s) EXPECT_NEAR(one[size_t(l)][s], kl[size_t(l)][s], 1e-9);
}

}  // namespace
}  // namespace hb::models
