// Parity of the native model with independent float64 references (tests/tools/make_engine_goldens.py):
// transformers' MistralForCausalLM and a numpy transcription of the Apriel m2 spec. Plus the cache
// invariants: prefill == token by token == chunked, batch invariance, reset, legacy dt layout.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "harness/base/error.h"
#include "harness/base/files.h"
#include "models/model.h"
#include "models/safetensors.h"
#include "tests/models/engine_test_util.h"

namespace hb::models {
namespace {

using testing::engine_data;
using testing::goldens;
using testing::max_abs_diff;

// Stated fp32 tolerance against the float64 references (docs/ENGINE.md).
constexpr double kParityTol = 2e-5;
// Same-model consistency (different op order / batching in fp32).
constexpr double kConsistencyTol = 2e-5;

std::vector<int32_t> golden_tokens() { return goldens()["tokens"].get<std::vector<int32_t>>(); }

std::vector<std::vector<float>> run_rows(Model& m, const std::vector<int32_t>& tokens) {
  int seq = m.create_sequence(int64_t(tokens.size()) + 8);
  auto all = m.forward({{seq, tokens}}, /*all_logits=*/true)[0];
  m.release_sequence(seq);
  const size_t V = m.config().vocab_size;
  std::vector<std::vector<float>> rows;
  for (size_t t = 0; t < tokens.size(); ++t) rows.emplace_back(all.begin() + t * V, all.begin() + (t + 1) * V);
  return rows;
}

double parity(Model& m, const std::string& key) {
  auto rows = run_rows(m, golden_tokens());
  const auto& g = goldens()[key];
  double worst = 0;
  for (size_t t = 0; t < rows.size(); ++t) worst = std::max(worst, max_abs_diff(rows[t], g[t].get<std::vector<double>>()));
  return worst;
}

TEST(ModelParity, MistralMatchesTransformersFloat64) {
  auto m = Model::load(engine_data("mistral-tiny"));
  EXPECT_EQ(m->config().num_layers(), 2);
  double err = parity(*m, "mistral_logits");
  std::printf("mistral-tiny max |logit - fp64 reference| = %.3g\n", err);
  EXPECT_LT(err, kParityTol);
}

TEST(ModelParity, HybridMatchesSpecTranscriptionFloat64) {
  auto m = Model::load(engine_data("hybrid-tiny"));
  EXPECT_EQ(m->config().layout_string(), "t,m2,m2,t");
  EXPECT_EQ(m->weights_dtype(), "BF16");
  double err = parity(*m, "hybrid_logits");
  std::printf("hybrid-tiny max |logit - fp64 reference| = %.3g\n", err);
  EXPECT_LT(err, kParityTol);
  // The test can tell the double dt bias from a single one.
  EXPECT_GT(parity(*m, "hybrid_single_bias_logits"), 100 * kParityTol);
}

class ModelInvariants : public ::testing::TestWithParam<std::string> {};

TEST_P(ModelInvariants, PrefillEqualsTokenByTokenAndChunked) {
  auto m = Model::load(GetParam());
  auto tokens = golden_tokens();
  auto ref = run_rows(*m, tokens);
  int seq = m->create_sequence(32);
  for (size_t t = 0; t < tokens.size(); ++t) {
    auto out = m->forward({{seq, {tokens[t]}}})[0];
    ASSERT_LT(max_abs_diff(out, std::vector<double>(ref[t].begin(), ref[t].end())), kConsistencyTol) << "token " << t;
  }
  EXPECT_EQ(m->sequence_length(seq), int64_t(tokens.size()));
  // Chunked prefill 5 + 7 + 4 continues from the saved KV, conv and SSM state.
  m->reset_sequence(seq);
  size_t pos = 0;
  for (size_t n : {5, 7, 4}) {
    std::vector<int32_t> chunk(tokens.begin() + pos, tokens.begin() + pos + n);
    auto out = m->forward({{seq, chunk}})[0];
    pos += n;
    ASSERT_LT(max_abs_diff(out, std::vector<double>(ref[pos - 1].begin(), ref[pos - 1].end())), kConsistencyTol);
  }
}

TEST_P(ModelInvariants, BatchInvarianceAndReset) {
  auto m = Model::load(GetParam());
  auto tokens = golden_tokens();
  auto ref = run_rows(*m, tokens);
  // Sequence a runs beside b (a longer prompt) and c (decoding); its logits must not change.
  int a = m->create_sequence(32), b = m->create_sequence(64), c = m->create_sequence(32);
  m->forward({{c, {5, 6, 7}}});
  std::vector<int32_t> bt = {9, 8, 7, 6, 5, 4, 3, 2, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23};
  auto outs = m->forward({{b, bt}, {a, std::vector<int32_t>(tokens.begin(), tokens.begin() + 10)}, {c, {8}}});
  EXPECT_LT(max_abs_diff(outs[1], std::vector<double>(ref[9].begin(), ref[9].end())), kConsistencyTol);
  for (size_t t = 10; t < tokens.size(); ++t) {
    auto o = m->forward({{c, {int32_t(t)}}, {a, {tokens[t]}}, {b, {3}}});
    ASSERT_LT(max_abs_diff(o[1], std::vector<double>(ref[t].begin(), ref[t].end())), kConsistencyTol) << t;
  }
  // Reset: the slot forgets everything (KV length and mamba state).
  m->reset_sequence(b);
  auto again = m->forward({{b, tokens}})[0];
  EXPECT_LT(max_abs_diff(again, std::vector<double>(ref.back().begin(), ref.back().end())), kConsistencyTol);
}

INSTANTIATE_TEST_SUITE_P(Checkpoints, ModelInvariants,
                         ::testing::Values(engine_data("mistral-tiny"), engine_data("hybrid-tiny")));

std::string temp_dir(const std::string& name) {
  auto d = std::filesystem::temp_directory_path() / ("hb_engine_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d.string();
}

// Rewrites hybrid-tiny, optionally transforming the tensor list.
std::string rewrite_hybrid(const std::string& name, const std::function<void(std::vector<TensorToWrite>&)>& edit) {
  std::string dir = temp_dir(name);
  std::filesystem::copy_file(engine_data("hybrid-tiny/config.json"), dir + "/config.json");
  SafetensorsFile f(engine_data("hybrid-tiny/model.safetensors"));
  std::vector<TensorToWrite> ts;
  for (const auto& [n, v] : f.tensors()) ts.push_back({n, v.dtype, v.shape, std::string(reinterpret_cast<const char*>(v.data), v.nbytes)});
  edit(ts);
  write_safetensors(dir + "/model.safetensors", ts);
  return dir;
}

TEST(ModelWeights, LegacyDtRowsInsideInProj) {
  std::string dir = rewrite_hybrid("legacy", [](std::vector<TensorToWrite>& ts) {
    for (int layer : {1, 2}) {
      std::string p = "model.layers." + std::to_string(layer) + ".mixer.";
      auto find = [&](const std::string& n) {
        for (auto& t : ts) if (t.name == n) return &t;
        return static_cast<TensorToWrite*>(nullptr);
      };
      TensorToWrite* in = find(p + "in_proj.weight");
      TensorToWrite* dt = find(p + "dt_in_proj.weight");
      in->data += dt->data;  // rows [z|x|B|C|dt]
      in->shape[0] += dt->shape[0];
      ts.erase(ts.begin() + (dt - ts.data()));
    }
  });
  auto m = Model::load(dir);
  EXPECT_LT(parity(*m, "hybrid_logits"), kParityTol);
}

// bf16 -> fp16 by hand: every bf16 value of the checkpoint in the fp16 normal range converts exactly.
uint16_t bf16_to_f16(uint16_t b) {
  uint32_t sign = (b >> 15) & 1, exp = (b >> 7) & 0xff, man = b & 0x7f;
  if (exp == 0) return uint16_t(sign << 15);
  int e = int(exp) - 127 + 15;
  if (e <= 0) return uint16_t(sign << 15);  // below fp16 normals: flush (no such values here)
  if (e >= 31) return uint16_t((sign << 15) | 0x7c00);
  return uint16_t((sign << 15) | (uint32_t(e) << 10) | (man << 3));
}

TEST(ModelWeights, Float16CheckpointLoads) {
  std::string dir = rewrite_hybrid("f16", [](std::vector<TensorToWrite>& ts) {
    for (auto& t : ts) {
      ASSERT_EQ(t.dtype, WeightDType::bf16);
      t.dtype = WeightDType::f16;
      for (size_t i = 0; i + 1 < t.data.size(); i += 2) {
        uint16_t b = uint16_t(uint8_t(t.data[i])) | uint16_t(uint8_t(t.data[i + 1])) << 8;
        uint16_t h = bf16_to_f16(b);
        t.data[i] = char(h & 0xff);
        t.data[i + 1] = char(h >> 8);
      }
    }
  });
  auto m = Model::load(dir);
  EXPECT_EQ(m->weights_dtype(), "F16");
  EXPECT_LT(parity(*m, "hybrid_logits"), 1e-3);
}

TEST(ModelWeights, OneErrorListsAllMissingAndUnused) {
  std::string dir = rewrite_hybrid("names", [](std::vector<TensorToWrite>& ts) {
    for (auto& t : ts) {
      if (t.name == "model.layers.1.mixer.A_log") t.name = "model.layers.1.mixer.A_logg";
      if (t.name == "model.layers.0.self_attn.q_proj.weight") t.name = "model.layers.0.self_attn.qproj.weight";
    }
    ts.push_back({"extra.bias", WeightDType::f32, {1}, std::string(4, '\0')});
  });
  try {
    Model::load(dir);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string msg = e.message();
    for (const char* s : {"model.layers.1.mixer.A_log [32,4]", "model.layers.0.self_attn.q_proj.weight", "A_logg", "qproj",
                          "extra.bias"}) {
      EXPECT_NE(msg.find(s), std::string::npos) << s << " not in: " << msg;
    }
  }
}

TEST(ModelWeights, WrongShapeIsNamed) {
  std::string dir = rewrite_hybrid("shape", [](std::vector<TensorToWrite>& ts) {
    for (auto& t : ts) {
      if (t.name == "model.layers.2.mixer.D") t.shape = {16, 2};
    }
  });
  try {
    Model::load(dir);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("model.layers.2.mixer.D is [16,2], expected [32]"), std::string::npos) << e.message();
  }
}

TEST(ModelWeights, TruncatedAndCorruptFilesFailClearly) {
  std::string dir = temp_dir("trunc");
  std::filesystem::copy_file(engine_data("hybrid-tiny/config.json"), dir + "/config.json");
  std::string bytes = read_file(engine_data("hybrid-tiny/model.safetensors"));
  write_file(dir + "/model.safetensors", bytes.substr(0, bytes.size() - 100));
  try {
    Model::load(dir);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::data);
    EXPECT_NE(e.message().find("truncated"), std::string::npos) << e.message();
  }
  std::string bad = bytes;
  bad[10] = '#';  // break the JSON header
  write_file(dir + "/model.safetensors", bad);
  EXPECT_THROW(Model::load(dir), Error);
  write_file(dir + "/model.safetensors", std::string("\xff\xff\xff\xff\xff\xff\xff\x7f", 8) + "{}");
  try {
    Model::load(dir);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("header length"), std::string::npos) << e.message();
  }
}

TEST(ModelPresets, TinyHybridRunsAndIsSeeded) {
  auto a = Model::load("preset:tiny/h30");
  auto b = Model::load("preset:tiny/h30");
  EXPECT_EQ(a->config().mamba_layers(), 30);
  int sa = a->create_sequence(16), sb = b->create_sequence(16);
  auto la = a->forward({{sa, {1, 72, 105}}})[0];
  auto lb = b->forward({{sb, {1, 72, 105}}})[0];
  ASSERT_EQ(la.size(), size_t(a->config().vocab_size));
  for (size_t i = 0; i < la.size(); ++i) {
    ASSERT_TRUE(std::isfinite(la[i]));
    ASSERT_EQ(la[i], lb[i]);
  }
}

TEST(ModelErrors, ReservationAndVocabChecked) {
  auto m = Model::load(engine_data("mistral-tiny"));
  int s = m->create_sequence(4);
  EXPECT_THROW(m->forward({{s, {1, 2, 3, 4, 5}}}), Error);
  EXPECT_THROW(m->forward({{s, {1000}}}), Error);
}

}  // namespace
}  // namespace hb::models
