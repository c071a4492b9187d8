// The native backend through the Backend interface: chat and completion requests, timestamps per token,
// usage, errors as data, cancel_all.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "harness/backends/native_backend.h"
#include "tests/models/engine_test_util.h"

namespace hb {
namespace {

GenerationResult run(Backend& b, GenerationRequest r) {
  std::promise<GenerationResult> p;
  auto f = p.get_future();
  b.submit(std::move(r), [&p](GenerationResult g) { p.set_value(std::move(g)); });
  return f.get();
}

TEST(NativeBackend, ChatAndCompletionOnAPreset) {
  auto b = make_native_backend("preset:tiny/h30", {});
  auto info = b->describe();
  EXPECT_EQ(info.kind, "native");
  EXPECT_EQ(info.model_name, "tiny/h30");
  EXPECT_EQ(info.details["mamba_layers"], 30);
  GenerationRequest r;
  r.id = "a";
  r.messages = {{"user", "What is 3+4?"}};
  r.sampling.max_tokens = 6;
  r.sampling.ignore_eos = true;
  auto g = run(*b, r);
  ASSERT_TRUE(g.ok()) << g.error->message;
  EXPECT_EQ(g.usage.completion_tokens, 6);
  EXPECT_GT(g.usage.prompt_tokens, 100);  // Apriel's system block
  EXPECT_EQ(g.chunks.size(), 6u);
  EXPECT_GE(g.first_token_ns, g.submit_ns);
  EXPECT_GE(g.end_ns, g.first_token_ns);
  EXPECT_EQ(g.finish_reason, "length");
  GenerationRequest c;
  c.prompt = "Once upon a time";
  c.sampling.max_tokens = 4;
  c.sampling.temperature = 0.8;
  c.sampling.seed = 3;
  auto g1 = run(*b, c), g2 = run(*b, c);
  ASSERT_TRUE(g1.ok());
  EXPECT_EQ(g1.content, g2.content);
}

TEST(NativeBackend, BadRequestsAreDataNotExceptions) {
  auto b = make_native_backend(models::testing::engine_data("hybrid-tiny"), {});
  GenerationRequest r;
  r.messages = {{"user", "x"}};
  r.sampling.max_tokens = 0;
  auto g = run(*b, r);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error->kind, "bad_request");
  r.sampling.max_tokens = 4;
  r.sampling.temperature = -1;
  EXPECT_FALSE(run(*b, r).ok());
  r.sampling.temperature = 0;
  r.prompt = std::string(5000, 'z');  // longer than the 1024-token context
  EXPECT_FALSE(run(*b, r).ok());
  EXPECT_THROW(make_native_backend("preset:tiny/h99", {}), Error);
  EXPECT_THROW(make_native_backend("/nonexistent", {}), Error);
}

TEST(NativeBackend, CancelAllFiresEveryCallback) {
  auto b = make_native_backend("preset:tiny/teacher", {});
  std::vector<std::promise<GenerationResult>> ps(3);
  for (auto& p : ps) {
    GenerationRequest r;
    r.prompt = "go";
    r.sampling.max_tokens = 4000;
    r.sampling.ignore_eos = true;
    b->submit(r, [&p](GenerationResult g) { p.set_value(std::move(g)); });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  b->cancel_all();
  for (auto& p : ps) {
    auto g = p.get_future().get();
    ASSERT_FALSE(g.ok());
    EXPECT_EQ(g.error->kind, "cancelled");
  }
}

}  // namespace
}  // namespace hb

namespace hb {
namespace {

std::string error_of(const std::string& spec) {
  try {
    make_native_backend(spec, {});
  } catch (const Error& e) {
    return e.message();
  }
  return "";
}

TEST(NativeBackend, SpecOptionsAreParsedAndBadOnesNamed) {
  auto p = parse_native_spec("preset:tiny/h30, device=cpu ,context=4096,reserve_gib=2.5,slots=3,threads=2", {});
  EXPECT_EQ(p.target, "preset:tiny/h30");
  EXPECT_EQ(p.options.device, "cpu");
  EXPECT_EQ(p.options.context, 4096);
  EXPECT_DOUBLE_EQ(p.options.gpu_reserve_gib, 2.5);
  EXPECT_EQ(p.options.gpu_max_sequences, 3);
  EXPECT_EQ(p.options.threads, 2);
  NativeOptions defaults;
  defaults.threads = 4;
  EXPECT_EQ(parse_native_spec("preset:tiny/h30", defaults).options.threads, 4);  // spec values override only

  EXPECT_NE(error_of("preset:tiny/h30,devise=cuda").find("did you mean 'device'"), std::string::npos);
  EXPECT_NE(error_of("preset:tiny/h30,device=tpu").find("device=tpu is not cpu, cuda or auto"), std::string::npos);
  EXPECT_NE(error_of("preset:tiny/h30,context=abc").find("context=abc must be a number"), std::string::npos);
  EXPECT_NE(error_of("preset:tiny/h30,context=-5").find("context=-5"), std::string::npos);
  EXPECT_NE(error_of("preset:tiny/h30,slots").find("needs key=value"), std::string::npos);
  EXPECT_NE(error_of(",device=cpu").find("needs a checkpoint directory or preset:NAME"), std::string::npos);
}

TEST(NativeBackend, DeviceChoice) {
  auto cpu = make_native_backend("preset:tiny/h30,device=cpu", {});
  EXPECT_EQ(cpu->describe().details["device"], "cpu");
  EXPECT_EQ(cpu->describe().details["kernels"], "cpu-reference");
  // cuda: the CUDA engine where this build has it and a GPU is visible, else one clear error.
  std::string e = error_of("preset:tiny/h30,device=cuda,context=64,slots=2,reserve_gib=0.5");
  if (e.empty()) {
    auto gpu = make_native_backend("preset:tiny/h30,device=cuda,context=64,slots=2,reserve_gib=0.5", {});
    EXPECT_EQ(gpu->describe().details["device"], "cuda");
    EXPECT_EQ(gpu->describe().details["max_context"], 64);
  } else {
    EXPECT_NE(e.find("device=cuda"), std::string::npos) << e;
    // auto falls back to the CPU reference where there is no CUDA engine.
    EXPECT_EQ(make_native_backend("preset:tiny/h30", {})->describe().details["device"], "cpu");
  }
}

}  // namespace
}  // namespace hb
