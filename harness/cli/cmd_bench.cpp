// hybench bench engine --model SPEC[,SPEC...] --shape IN:OUT [--batch B|max] [--json FILE]: the GPU engine
// side by side (models/gpu/engine_bench.h), run by the engine module (models/engine_module.h): it needs the
// CUDA build of the module and a visible CUDA device, and says so clearly otherwise.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "harness/base/error.h"
#include "harness/base/strings.h"
#include "harness/cli/commands.h"
#ifdef HYBENCH_HAVE_ENGINE
#include "models/engine_module.h"
#include "models/gpu/engine_bench.h"
#endif

namespace hb::cli {

void add_bench_command(CLI::App& root, int& exit_code) {
  auto* bench = root.add_subcommand("bench", "Benchmarks of the native engine");
  bench->require_subcommand(1);
  auto* eng = bench->add_subcommand("engine", "GPU engine side by side: decode step times, prefill, memory, predicted and measured tokens/s");
  struct Opts {
    std::string models, shape = "1:16384", batch = "max", json, batches = "1,8,32", contexts = "1,2048,4096,8192,16384",
                prefill = "2048,16384", profile;
    int64_t real_out = 2048;
    double reserve = 4.0;
    int iters = 20;
  };
  auto o = std::make_shared<Opts>();
  eng->add_option("--model", o->models, "comma-separated model specs (preset:NAME or a checkpoint directory); the first is the baseline")->required();
  eng->add_option("--shape", o->shape, "IN:OUT prompt and generated tokens per sequence (default 1:16384)");
  eng->add_option("--batch", o->batch, "sequences of the workload: a number or max (the largest that fits at IN+OUT)");
  eng->add_option("--json", o->json, "write the full result as JSON to FILE");
  eng->add_option("--decode-batches", o->batches, "batches of the decode-step points (comma-separated)");
  eng->add_option("--contexts", o->contexts, "contexts of the decode-step points (comma-separated, clipped to IN+OUT)");
  eng->add_option("--real-out", o->real_out, "generated tokens of the real run that checks the prediction (0: skip)");
  eng->add_option("--prefill-tokens", o->prefill, "prompt lengths of the prefill-throughput runs, comma-separated (one sequence each; the first sets the prediction)");
  eng->add_option("--reserve-gib", o->reserve, "GPU memory kept out of the KV/state pool (GiB)");
  eng->add_option("--iters", o->iters, "graph replays per decode point");
  eng->add_option("--profile-points", o->profile, "B:CTX decode points (B a number or max), comma-separated, of "
                                                  "which one step runs inside cudaProfilerStart/Stop (ncu --profile-from-start off; see scripts/gpu_breakdown.py)");
  eng->callback([o, &exit_code] {
#ifdef HYBENCH_HAVE_ENGINE
    models::gpu::EngineBenchOptions eo;
    for (auto& m : split(o->models, ',')) {
      std::string t(trim(m));
      if (starts_with(t, "native:")) t = t.substr(7);
      if (!t.empty()) eo.models.push_back(t);
    }
    if (eo.models.empty()) throw Error(ErrorCode::usage, "--model needs at least one model spec");
    auto colon = o->shape.find(':');
    if (colon == std::string::npos) throw Error(ErrorCode::usage, "--shape must be IN:OUT, e.g. 1:16384");
    try {
      eo.in = std::stoll(o->shape.substr(0, colon));
      eo.out = std::stoll(o->shape.substr(colon + 1));
      eo.batch = o->batch == "max" ? 0 : std::stoi(o->batch);
      eo.batches.clear();
      for (auto& b : split(o->batches, ',')) eo.batches.push_back(std::stoi(b));
      eo.contexts.clear();
      for (auto& t : split(o->contexts, ',')) eo.contexts.push_back(std::stoll(t));
      eo.prefill_tokens.clear();
      for (auto& t : split(o->prefill, ',')) eo.prefill_tokens.push_back(std::stoll(t));
    } catch (const std::exception&) {
      throw Error(ErrorCode::usage, "--shape/--batch/--decode-batches/--contexts/--prefill-tokens take numbers");
    }
    if (eo.in < 1 || eo.out < 2 || eo.batch < 0) throw Error(ErrorCode::usage, "--shape needs IN >= 1 and OUT >= 2; --batch >= 1 or max");
    eo.real_out = o->real_out;
    if (eo.prefill_tokens.empty()) throw Error(ErrorCode::usage, "--prefill-tokens needs at least one length, e.g. 2048,16384");
    for (auto t : eo.prefill_tokens)
      if (t < 1) throw Error(ErrorCode::usage, "--prefill-tokens lengths must be >= 1, got " + std::to_string(t));
    for (auto& p : split(o->profile, ',')) {
      const std::string point(trim(p));
      if (point.empty()) continue;
      const auto c = point.find(':');
      try {
        if (c == std::string::npos) throw std::invalid_argument(point);
        const std::string b = point.substr(0, c);
        eo.profile_points.emplace_back(b == "max" ? 0 : std::stoi(b), std::stoll(point.substr(c + 1)));
      } catch (const std::exception&) {
        throw Error(ErrorCode::usage, "--profile-points '" + point + "': expected BATCH:CONTEXT, e.g. 1:1 or 165:8192");
      }
    }
    eo.reserve_gib = o->reserve;
    eo.iters = o->iters;
    const auto& engine = models::engine_module();
    auto result = engine.run_engine_bench(eo, std::cerr);
    if (!o->json.empty()) {
      std::ofstream f(o->json);
      f << result.dump(2) << "\n";
      if (!f) throw Error(ErrorCode::io, "cannot write " + o->json);
    }
    std::fputs(engine.format_engine_bench(result).c_str(), stdout);
    exit_code = kExitOk;
#else
    throw Error(ErrorCode::usage, "bench engine needs the CUDA build of hybench (nvcc + a CUDA LibTorch; see docs/GPU.md) and a CUDA device");
#endif
  });
}

}  // namespace hb::cli
