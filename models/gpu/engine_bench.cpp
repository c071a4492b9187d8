#include "models/gpu/engine_bench.h"

#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_profiler_api.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <set>

#include "harness/base/error.h"
#include "kernels/ops_cuda.h"
#include "models/gpu/gpu_model.h"

namespace hb::models::gpu {
namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Piecewise-linear step time over the context, flat-extrapolated below the first point and linearly
// above the last two.
struct StepFit {
  std::vector<std::pair<double, double>> pts;  // (context, ms)
  double at(double t) const {
    if (pts.empty()) return 0;
    if (pts.size() == 1 || t <= pts.front().first) return pts.front().second;
    for (size_t i = 1; i < pts.size(); ++i) {
      if (t <= pts[i].first) {
        const auto& a = pts[i - 1];
        const auto& b = pts[i];
        return a.second + (b.second - a.second) * (t - a.first) / (b.first - a.first);
      }
    }
    const auto& a = pts[pts.size() - 2];
    const auto& b = pts.back();
    return b.second + (b.second - a.second) * (t - b.first) / std::max(1.0, b.first - a.first);
  }
  // Sum of step times for contexts first..first+n-1 (ms), by a fine trapezoid.
  double sum(double first, double n) const {
    const int segs = 256;
    double acc = 0, h = n / segs;
    for (int i = 0; i < segs; ++i) acc += 0.5 * (at(first + i * h) + at(first + (i + 1) * h)) * h;
    return acc;
  }
};

double device_used_gib() {
  size_t f = 0, t = 0;
  cudaMemGetInfo(&f, &t);
  return double(t - f) / double(1ull << 30);
}

}  // namespace

nlohmann::json run_engine_bench(const EngineBenchOptions& o, std::ostream& log) {
  int ndev = 0;
  if (cudaGetDeviceCount(&ndev) != cudaSuccess || ndev == 0) {
    cudaGetLastError();
    throw Error(ErrorCode::config, "bench engine needs a CUDA device and none is visible");
  }
  torch::zeros({1}, torch::TensorOptions().device(torch::kCUDA));  // initialise the context and allocator
  cudaDeviceProp prop{};
  cudaGetDeviceProperties(&prop, 0);
  nlohmann::json out;
  out["device"] = prop.name;
  out["shape"] = {{"in", o.in}, {"out", o.out}};
  const auto ceiling = hb::kernels::cuda::measure_device_ceiling();
  out["ceiling"] = {{"read_tbs", ceiling.read_tbs}, {"copy_tbs", ceiling.copy_tbs}, {"bf16_tflops", ceiling.bf16_tflops},
                    {"buffer_gib", double(ceiling.buffer_bytes) / 1073741824.0},
                    {"note", "measured at the start of this run; every fraction is against read_tbs"}};
  {
    char line[256];
    std::snprintf(line, sizeof line,
                  "device ceiling (measured now): streaming read %.2f TB/s, copy %.2f TB/s (read + write), bf16 GEMM %.0f "
                  "TFLOP/s; fractions below are of the read figure\n",
                  ceiling.read_tbs, ceiling.copy_tbs, ceiling.bf16_tflops);
    log << line << std::flush;
  }
  std::mt19937_64 rng(42);
  const double peak_tbs = ceiling.read_tbs;
  const double peak = peak_tbs * 1e12;
  for (const auto& spec : o.models) {
    nlohmann::json m;
    m["model"] = spec;
    log << "== " << spec << "\n";
    c10::cuda::CUDACachingAllocator::emptyCache();
    c10::cuda::CUDACachingAllocator::resetPeakStats(0);
    GpuOptions go;
    go.max_context = o.in + o.out + 64;
    go.reserve_gib = o.reserve_gib;
    double t0 = now_s();
    auto model = GpuModel::load(spec, go);
    m["load_s"] = now_s() - t0;
    const auto& c = model->config();
    const auto& plan = model->plan();
    log << plan.describe() << "\n";
    m["plan"] = {{"slots", plan.slots}, {"max_context", plan.max_context}, {"weight_gib", plan.weight_bytes / 1073741824.0},
                 {"kv_gib_per_slot", plan.kv_bytes_per_slot / 1073741824.0}, {"state_mb_per_slot", plan.state_bytes_per_slot / 1e6},
                 {"reserve_gib", o.reserve_gib}, {"free_after_weights_gib", plan.free_after_weights / 1073741824.0}};
    m["layout"] = {{"attention", c.attention_layers()}, {"mamba", c.mamba_layers()}};
    const int bmax = int(plan.slots);
    const int bw = o.batch > 0 ? std::min(o.batch, bmax) : bmax;
    m["max_batch"] = bmax;
    m["batch"] = bw;
    model->fill_random_cache(7);

    // Decode points.
    std::set<int> bs;
    for (int b : o.batches) {
      if (b <= bmax) bs.insert(b);
    }
    bs.insert(bw);
    std::vector<int64_t> ctxs;
    for (auto t : o.contexts) {
      if (t <= o.in + o.out) ctxs.push_back(std::max<int64_t>(t, 1));
    }
    if (ctxs.empty() || ctxs.back() < o.in + o.out) ctxs.push_back(o.in + o.out);
    std::sort(ctxs.begin(), ctxs.end());
    ctxs.erase(std::unique(ctxs.begin(), ctxs.end()), ctxs.end());
    nlohmann::json points = nlohmann::json::array();
    nlohmann::json profiled = nlohmann::json::array();
    StepFit fit;
    double best_tbs = 0;
    for (int b : bs) {
      std::vector<int> slots(static_cast<size_t>(b));
      std::vector<int64_t> toks(static_cast<size_t>(b)), pos(static_cast<size_t>(b));
      for (int i = 0; i < b; ++i) {
        slots[size_t(i)] = i;
        toks[size_t(i)] = int64_t(rng() % uint64_t(c.vocab_size));
      }
      for (auto ctx : ctxs) {
        std::fill(pos.begin(), pos.end(), ctx - 1);
        model->set_decode_batch(slots, toks, pos);
        model->decode_step();  // eager + capture on the bucket's first use
        model->decode_step();
        model->set_positions(ctx - 1);
        auto stream = c10::cuda::getCurrentCUDAStream();
        at::cuda::CUDAEvent e0(cudaEventDefault), e1(cudaEventDefault);
        e0.record(stream);
        for (int i = 0; i < o.iters; ++i) model->decode_step();
        e1.record(stream);
        e1.synchronize();
        const double ms = e0.elapsed_time(e1) / o.iters;
        const double ctx_mid = double(ctx) + o.iters / 2.0;
        const double bytes = decode_step_bytes(c, b, int64_t(ctx_mid));
        const double tbs = bytes / (ms * 1e-3) / 1e12;
        best_tbs = std::max(best_tbs, tbs);
        points.push_back({{"batch", b}, {"bucket", model->bucket()}, {"context", ctx}, {"step_ms", ms},
                          {"tokens_per_s", b / (ms * 1e-3)}, {"bytes_gb", bytes / 1e9}, {"tbs", tbs},
                          {"roofline_frac", tbs * 1e12 / peak}});
        char line[256];
        std::snprintf(line, sizeof line, "decode b=%d ctx=%lld: %.3f ms/step, %.0f tok/s, %.2f TB/s (%.0f%% of %.2f)\n", b,
                      (long long)ctx, ms, b / (ms * 1e-3), tbs, 100 * tbs * 1e12 / peak, peak_tbs);
        log << line << std::flush;
        if (b == bw) fit.pts.push_back({double(ctx), ms});
        for (const auto& [pb, pctx] : o.profile_points) {
          if ((pb > 0 ? pb : bw) != b || std::max<int64_t>(pctx, 1) != ctx) continue;
          model->set_positions(ctx - 1);
          cudaDeviceSynchronize();
          cudaProfilerStart();
          model->decode_step();
          cudaDeviceSynchronize();
          cudaProfilerStop();
          log << "profiled one step at b=" << b << " ctx=" << ctx << " (" << ms << " ms/step measured)\n";
          profiled.push_back({b, ctx});
        }
      }
    }
    m["decode_points"] = points;
    if (!profiled.empty()) m["profiled_points"] = profiled;
    m["best_decode_tbs"] = best_tbs;

    // Prefill throughput: one sequence of each prefill length (warm-up run first); the first sets the
    // workload prediction.
    double prefill_tps = 0;
    nlohmann::json prefill_points = nlohmann::json::array();
    for (int64_t want : o.prefill_tokens) {
      const int64_t T = std::min<int64_t>(want, plan.max_context - 1);
      std::vector<int32_t> prompt(static_cast<size_t>(T));
      for (auto& t : prompt) t = int32_t(rng() % uint64_t(c.vocab_size));
      double tps = 0;
      for (int rep = 0; rep < 2; ++rep) {
        model->reset_slot(0);
        torch::cuda::synchronize();
        double a = now_s();
        model->prefill({0}, {prompt}, {0});
        torch::cuda::synchronize();
        tps = double(T) / (now_s() - a);
      }
      if (prefill_points.empty()) {
        prefill_tps = tps;
        m["prefill"] = {{"tokens", T}, {"tokens_per_s", tps}};
      }
      prefill_points.push_back({{"tokens", T}, {"tokens_per_s", tps}});
      log << "prefill " << T << " tokens: " << tps << " tok/s\n";
    }
    m["prefill_points"] = prefill_points;

    // Workload prediction at the workload batch.
    const double dec_ms = fit.sum(double(o.in), double(o.out - 1));
    const double pre_ms = prefill_tps > 0 ? 1e3 * double(bw) * double(o.in) / prefill_tps : 0;
    const double pred_tps = double(bw) * double(o.out) / ((dec_ms + pre_ms + fit.at(double(o.in))) * 1e-3);
    double bound_s = 0;
    for (int64_t t = o.in; t < o.in + o.out; t += 16) bound_s += 16 * decode_step_bytes(c, bw, t) / peak;
    const double bound_tps = double(bw) * double(o.out) / bound_s;
    m["workload"] = {{"batch", bw}, {"predicted_tokens_per_s", pred_tps}, {"bound_tokens_per_s", bound_tps},
                     {"frac_of_bound", pred_tps / bound_tps}};
    log << "workload " << o.in << "->" << o.out << " at b=" << bw << ": predicted " << pred_tps << " tok/s, bound "
        << bound_tps << " tok/s (" << 100 * pred_tps / bound_tps << "%)\n";

    // Real run: bw fresh sequences, IN random prompt tokens, real_out generated tokens, host reads ids per step.
    if (o.real_out > 0) {
      const int64_t gen = std::min(o.real_out, o.out);
      std::vector<int> slots;
      for (int i = 0; i < bw; ++i) slots.push_back(model->acquire_slot());
      std::vector<std::vector<int32_t>> prompts(static_cast<size_t>(bw));
      for (auto& p : prompts) {
        p.resize(size_t(o.in));
        for (auto& t : p) t = int32_t(rng() % uint64_t(c.vocab_size));
      }
      torch::cuda::synchronize();
      double a = now_s();
      std::vector<int64_t> first(static_cast<size_t>(bw));
      const int per_chunk = int(std::max<int64_t>(1, 8192 / std::max<int64_t>(1, o.in)));
      for (int i = 0; i < bw; i += per_chunk) {
        const int e = std::min(bw, i + per_chunk);
        std::vector<int> s(slots.begin() + i, slots.begin() + e);
        std::vector<std::vector<int32_t>> p(prompts.begin() + i, prompts.begin() + e);
        auto logits = model->prefill(s, p, std::vector<int64_t>(size_t(e - i), 0));
        auto ids = logits.argmax(1).to(torch::kCPU);
        for (int j = i; j < e; ++j) first[size_t(j)] = ids[j - i].item<int64_t>();
      }
      model->set_decode_batch(slots, first, std::vector<int64_t>(size_t(bw), o.in));
      int64_t produced = bw;  // the first token of each sequence
      int64_t checksum = 0;
      for (int64_t step = 1; step < gen; ++step) {
        model->decode_step();
        auto ids = model->read_sampled();
        produced += int64_t(ids.size());
        checksum += ids[0];
      }
      const double secs = now_s() - a;
      const double real_tps = double(produced) / secs;
      const double pred_real = double(bw) * double(gen) /
                               ((fit.sum(double(o.in), double(gen - 1)) + pre_ms + fit.at(double(o.in))) * 1e-3);
      m["real_run"] = {{"batch", bw}, {"in", o.in}, {"out", gen}, {"seconds", secs}, {"tokens_per_s", real_tps},
                       {"predicted_tokens_per_s", pred_real}, {"measured_over_predicted", real_tps / pred_real},
                       {"checksum", checksum}};
      log << "real run " << o.in << "->" << gen << " at b=" << bw << ": " << real_tps << " tok/s (predicted " << pred_real
          << ", ratio " << real_tps / pred_real << ")\n";
      for (int s : slots) model->release_slot(s);
    }
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(0);
    m["peak_reserved_gib"] = double(stats.reserved_bytes[0].peak) / 1073741824.0;
    m["device_used_gib"] = device_used_gib();
    log << "peak reserved " << m["peak_reserved_gib"].get<double>() << " GiB; device in use " << m["device_used_gib"].get<double>()
        << " GiB\n";
    model.reset();
    out["models"].push_back(m);
  }
  // Ratios to the first model.
  auto& ms = out["models"];
  if (!ms.empty()) {
    const double base_pred = ms[0]["workload"]["predicted_tokens_per_s"].get<double>();
    const double base_real = ms[0].contains("real_run") ? ms[0]["real_run"]["tokens_per_s"].get<double>() : 0.0;
    for (auto& m : ms) {
      m["ratio_predicted"] = m["workload"]["predicted_tokens_per_s"].get<double>() / base_pred;
      if (base_real > 0 && m.contains("real_run")) m["ratio_real"] = m["real_run"]["tokens_per_s"].get<double>() / base_real;
    }
  }
  return out;
}

std::string format_engine_bench(const nlohmann::json& r) {
  std::string s;
  char buf[512];
  std::snprintf(buf, sizeof buf, "bench engine on %s, shape %lld:%lld\n", r["device"].get<std::string>().c_str(),
                (long long)r["shape"]["in"].get<int64_t>(), (long long)r["shape"]["out"].get<int64_t>());
  s += buf;
  if (r.contains("ceiling")) {
    std::snprintf(buf, sizeof buf, "ceiling measured in this run: read %.2f TB/s, copy %.2f TB/s, bf16 GEMM %.0f TFLOP/s\n",
                  r["ceiling"]["read_tbs"].get<double>(), r["ceiling"]["copy_tbs"].get<double>(),
                  r["ceiling"]["bf16_tflops"].get<double>());
    s += buf;
  }
  std::snprintf(buf, sizeof buf, "%-28s %5s %5s %9s %9s %7s %9s %9s %7s %8s %7s %9s %6s\n", "model", "attn", "bmax", "b1 ms@1",
                "pred t/s", "%bound", "real t/s", "real/pred", "ratio", "real x", "best TB/s", "prefill", "peakGiB");
  s += buf;
  for (const auto& m : r["models"]) {
    double b1 = 0;
    for (const auto& p : m["decode_points"]) {
      if (p["batch"].get<int>() == 1 && b1 == 0) b1 = p["step_ms"].get<double>();
    }
    const bool real = m.contains("real_run");
    std::snprintf(buf, sizeof buf, "%-28s %5d %5d %9.3f %9.0f %6.1f%% %9.0f %9.3f %7.2f %8.2f %7.2f %9.0f %6.1f\n",
                  m["model"].get<std::string>().c_str(), m["layout"]["attention"].get<int>(), m["max_batch"].get<int>(), b1,
                  m["workload"]["predicted_tokens_per_s"].get<double>(), 100 * m["workload"]["frac_of_bound"].get<double>(),
                  real ? m["real_run"]["tokens_per_s"].get<double>() : 0.0,
                  real ? m["real_run"]["measured_over_predicted"].get<double>() : 0.0, m["ratio_predicted"].get<double>(),
                  m.contains("ratio_real") ? m["ratio_real"].get<double>() : 0.0, m["best_decode_tbs"].get<double>(),
                  m["prefill"]["tokens_per_s"].get<double>(), m["peak_reserved_gib"].get<double>());
    s += buf;
  }
  return s;
}

}  // namespace hb::models::gpu
