// drop_mixer / drop_layer on the CUDA engine (label gpu; skipped without a CUDA device): decode graphs and
// prefill with a dropped mixer give exactly the tokens of a checkpoint whose mixer output projection is zero;
// GPU KL sweeps agree with the CPU reference and give exactly 0 for a zero mixer.
#include <gtest/gtest.h>

#include <future>

#include "models/engine.h"
#include "models/gpu/gpu_executor.h"
#include "models/sequence_logits.h"
#include "tests/models/planted_checkpoint.h"

namespace hb::models {
namespace {

#define REQUIRE_CUDA() \
  if (!gpu::cuda_device_available()) GTEST_SKIP() << "no CUDA device visible"

std::vector<int32_t> greedy_tokens(const std::string& spec, const LayerDrops& drops, const std::vector<int32_t>& prompt) {
  ModelOptions mo;
  mo.device = "cuda";
  mo.context = 128;
  mo.gpu_max_sequences = 4;
  mo.gpu_reserve_gib = 0.5;
  mo.drops = drops;
  EngineOptions eo;
  eo.max_batch = 4;
  auto e = make_engine(spec, eo, mo);
  std::promise<EngineResult> p;
  EngineRequest r;
  r.id = "t";
  r.prompt = prompt;
  r.max_tokens = 24;
  r.ignore_eos = true;
  r.on_done = [&](EngineResult x) { p.set_value(std::move(x)); };
  e->submit(std::move(r));
  return p.get_future().get().tokens;
}

const std::vector<int32_t> kPrompt = {1, 72, 101, 108, 108, 111, 44, 32, 119, 111, 114};

TEST(GpuLayerDrops, DroppedMixerDecodesLikeAZeroMixer) {
  REQUIRE_CUDA();
  const std::string ckpt = testing::engine_data("hybrid-tiny");
  for (int layer : {1, 3}) {
    const auto zero = testing::scaled_hybrid_checkpoint("gpu_zero" + std::to_string(layer), {{layer, 0.f}});
    const auto want = greedy_tokens(zero, {}, kPrompt);
    const auto got = greedy_tokens(ckpt, {{layer}, {}}, kPrompt);
    EXPECT_EQ(got, want) << "drop_mixer=" << layer;
    EXPECT_NE(got, greedy_tokens(ckpt, {}, kPrompt));
  }
  // drop_layer = zero mixer and MLP outputs.
  const auto zero_block = testing::scaled_hybrid_checkpoint("gpu_block2", {{2, 0.f}}, {{2, 0.f}});
  EXPECT_EQ(greedy_tokens(ckpt, {{}, {2}}, kPrompt), greedy_tokens(zero_block, {}, kPrompt));
}

TEST(GpuLayerDrops, KlMatchesTheCpuReference) {
  REQUIRE_CUDA();
  const auto ckpt = testing::scaled_hybrid_checkpoint("gpu_kl", {{1, 0.f}, {0, 4.f}});
  std::vector<std::vector<int32_t>> seqs = {kPrompt, {1, 60, 61, 62, 63, 64, 65}, {1, 200, 201}};
  std::vector<LayerDrops> variants = {{{0}, {}}, {{1}, {}}, {{2}, {}}, {{3}, {}}, {{}, {0}}};
  ModelOptions cpu;
  cpu.device = "cpu";
  auto ref = SequenceLogits::load(ckpt, cpu)->kl_per_sequence(seqs, variants);
  ModelOptions cuda;
  cuda.device = "cuda";
  cuda.context = 64;
  cuda.gpu_max_sequences = 2;
  cuda.gpu_reserve_gib = 0.5;
  auto lm = SequenceLogits::load(ckpt, cuda);
  ASSERT_EQ(lm->device(), "cuda");
  auto got = lm->kl_per_sequence(seqs, variants);
  for (size_t v = 0; v < variants.size(); ++v)
    for (size_t s = 0; s < seqs.size(); ++s) {
      if (v == 1) {
        EXPECT_EQ(got[v][s], 0.0) << "zero mixer";
      } else {
        EXPECT_NEAR(got[v][s], ref[v][s], 0.1 * ref[v][s] + 5e-3) << "variant " << v << " sequence " << s;  // bf16 weights
      }
    }
}

}  // namespace
}  // namespace hb::models
