#include "tests/reports/fixture_db.h"

#include <cmath>
#include <nlohmann/json.hpp>

namespace hb::reports::testing {
namespace {
uint64_t splitmix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
double r3(double v) { return std::round(v * 1000.0) / 1000.0; }
}  // namespace

namespace {
// The short shape as planned, then 8192:1024 at 30 tok/s per user with the speed-up over 1 scaled by long_gain
// (hybrids gain more at long contexts).
void short_and_long(FixtureBuilder& b, int64_t run, int64_t model, const PerfPlan& p, double long_gain,
                    uint64_t long_seed) {
  b.perf(run, model, p);
  PerfPlan lng = p;
  lng.shape = "8192:1024";
  lng.single_user_tok_per_s = 30;
  lng.speedup = 1 + (p.speedup - 1) * long_gain;
  lng.seed = long_seed;
  b.perf(run, model, lng);
}
}  // namespace

double unit_hash(uint64_t a, uint64_t b, uint64_t c) {
  uint64_t h = splitmix(splitmix(splitmix(a) ^ b) ^ c);
  return static_cast<double>(h >> 11) / 9007199254740992.0;
}

FixtureBuilder::FixtureBuilder(const std::string& path) : store_(path) {}

int64_t FixtureBuilder::run(const std::string& name) {
  auto rec = store_.open_run(name, "eval", nlohmann::json{{"fixture", name}});
  int64_t id = rec.id;
  store_.write_sync([id](store::Db& db) {
    db.prepare(
          "UPDATE runs SET git_sha='0123456789ab', started_at='2026-01-01T00:00:00Z', environment_json=? WHERE id=?")
        .bind(1, std::string(R"({"host":"fixture","cpu":"test cpu","gpu":"none","build_type":"Release"})"))
        .bind(2, id)
        .run();
  });
  return id;
}

int64_t FixtureBuilder::model(const FixtureModel& m) {
  store::ModelRecord rec;
  rec.spec = "fixture:" + m.name;
  rec.display_name = m.name;
  std::string layout;
  for (int i = 0; i < m.attention_layers + m.mamba_layers; ++i) {
    // Spread the Mamba layers evenly (like a distilled layout would).
    bool mamba = (static_cast<long>(i + 1) * m.mamba_layers) / (m.attention_layers + m.mamba_layers) !=
                 (static_cast<long>(i) * m.mamba_layers) / (m.attention_layers + m.mamba_layers);
    layout += mamba ? 'M' : 'A';
  }
  rec.layout = layout;
  rec.attention_layers = m.attention_layers;
  rec.mamba_layers = m.mamba_layers;
  return store_.ensure_model(rec);
}

void FixtureBuilder::quality(int64_t run_id, int64_t model_id, const QualityPlan& plan) {
  store::SuiteRecord suite{plan.suite, plan.variant, plan.version,
                           "hash-" + plan.suite + plan.variant + (plan.version == "1" ? "" : "-v" + plan.version)};
  int64_t suite_id = store_.ensure_suite(suite);
  double sum = 0, sum2 = 0;
  for (int i = 0; i < plan.items; ++i) {
    char item[32];
    std::snprintf(item, sizeof item, "item-%04d", i);
    double correct = 0;
    for (int s = 0; s < plan.samples; ++s) {
      double difficulty = plan.samples == 1
                              ? unit_hash(plan.seed, static_cast<uint64_t>(i))
                              : unit_hash(plan.seed, static_cast<uint64_t>(i), static_cast<uint64_t>(s) + 1);
      double score = difficulty < plan.accuracy ? 1.0 : 0.0;
      correct += score;
      store::SampleRecord rec;
      rec.run_id = run_id;
      rec.model_id = model_id;
      rec.suite_id = suite_id;
      rec.item_id = item;
      rec.sample_index = s;
      rec.prompt_json = "[]";
      rec.completion = score > 0 ? "right" : "wrong";
      for (const auto& m : plan.metrics) rec.scores[m] = score;
      rec.finish_reason = "stop";
      store_.add_sample(std::move(rec));
    }
    double p = correct / plan.samples;
    sum += p;
    sum2 += p * p;
  }
  double n = plan.items;
  double mean = sum / n;
  double var = n > 1 ? (sum2 - n * mean * mean) / (n - 1) : 0;
  std::vector<store::MetricRecord> metrics;
  for (const auto& m : plan.metrics) metrics.push_back({m, plan.items, mean, std::sqrt(std::max(0.0, var) / n)});
  store_.put_metrics(run_id, model_id, suite_id, metrics);
  store_.flush();
}

void FixtureBuilder::perf(int64_t run_id, int64_t model_id, const PerfPlan& plan) {
  for (double c : plan.concurrency) {
    for (int r = 0; r < plan.repeats; ++r) {
      double jitter =
          1 + plan.noise * (2 * unit_hash(plan.seed, static_cast<uint64_t>(c), static_cast<uint64_t>(r)) - 1);
      // Per-user speed falls slowly with load; total throughput grows sub-linearly.
      double per_user = plan.single_user_tok_per_s * plan.speedup / (1 + 0.02 * (c - 1)) * jitter;
      double total = per_user * c;
      double tpot = 1000.0 / per_user;
      double ttft = 80.0 * (1 + 0.05 * c) / plan.speedup;
      nlohmann::json m = {
          {"output_tok_per_s", r3(total)},
          {"request_per_s", r3(total / 256.0)},
          {"ttft_ms",
           {{"mean", r3(ttft)},
            {"p50", r3(ttft * 0.95)},
            {"p90", r3(ttft * 1.3)},
            {"p95", r3(ttft * 1.5)},
            {"p99", r3(ttft * 2.0)}}},
          {"tpot_ms",
           {{"mean", r3(tpot)},
            {"p50", r3(tpot)},
            {"p90", r3(tpot * 1.1)},
            {"p95", r3(tpot * 1.15)},
            {"p99", r3(tpot * 1.3)}}},
          {"e2e_ms",
           {{"mean", r3(ttft + 255 * tpot)}, {"p50", r3(ttft + 255 * tpot)}, {"p99", r3(1.3 * (ttft + 255 * tpot))}}},
      };
      std::string key = plan.shape + "/c" + std::to_string(static_cast<int>(c)) + "/r" + std::to_string(r);
      std::string shape = plan.shape;
      std::string metrics_json = m.dump();
      store_.write_sync([=](store::Db& db) {
        db.prepare(
              "INSERT INTO perf_points(run_id, model_id, point_key, shape, load_kind, load_value, repeat_index, "
              "workload_json, metrics_json, requests, errors, status) "
              "VALUES(?,?,?,?,'concurrency',?,?,'{}',?,64,0,'finished')")
            .bind(1, run_id)
            .bind(2, model_id)
            .bind(3, key)
            .bind(4, shape)
            .bind(5, c)
            .bind(6, r)
            .bind(7, metrics_json)
            .run();
      });
    }
  }
}

void FixtureBuilder::finish(int64_t run_id) {
  store_.flush();
  store_.write_sync([run_id](store::Db& db) {
    db.prepare("UPDATE runs SET status='finished', ended_at='2026-01-01T01:00:00Z' WHERE id=?").bind(1, run_id).run();
  });
}

void build_study_fixture(const std::string& path) {
  FixtureBuilder b(path);
  int64_t run = b.run("study");
  struct Spec {
    FixtureModel m;
    double gsm8k, aime, speedup;
  };
  std::vector<Spec> specs = {{{"teacher", 50, 0}, 0.80, 0.50, 1.0},
                             {{"H-25", 25, 25}, 0.79, 0.48, 1.5},
                             {{"H-30", 20, 30}, 0.78, 0.45, 1.8},
                             {{"H-40", 10, 40}, 0.70, 0.30, 2.4},
                             // Same ratio as H-30 with a worse layout: slower and clearly worse, so dominated.
                             {{"H-30b", 20, 30}, 0.72, 0.32, 1.6}};
  for (const auto& s : specs) {
    int64_t id = b.model(s.m);
    b.quality(run, id, {"gsm8k", "chat0", 500, 1, {"accuracy/flexible", "accuracy/strict"}, s.gsm8k, 11});
    b.quality(run, id, {"aime", "", 30, 8, {"accuracy"}, s.aime, 23});
    PerfPlan p;
    p.speedup = s.speedup;
    short_and_long(b, run, id, p, 3, 8);
  }
  b.finish(run);
}

void build_family_fixture(const std::string& path) {
  FixtureBuilder b(path);
  int64_t run = b.run("family");
  struct Spec {
    FixtureModel m;
    double gsm8k, math, gpqa, mbpp, speedup;
  };
  std::vector<Spec> specs = {{{"teacher", 50, 0}, 0.82, 0.70, 0.45, 0.62, 1.0},
                             {{"H-25", 25, 25}, 0.815, 0.695, 0.445, 0.615, 1.42},
                             {{"H-30", 20, 30}, 0.81, 0.69, 0.44, 0.61, 1.47},
                             {{"H-40", 10, 40}, 0.76, 0.62, 0.40, 0.55, 1.50},
                             {{"H-50", 0, 50}, 0.60, 0.45, 0.33, 0.40, 2.60}};
  for (const auto& s : specs) {
    int64_t id = b.model(s.m);
    b.quality(run, id, {"gsm8k", "chat0", 1319, 1, {"accuracy/flexible", "accuracy/strict"}, s.gsm8k, 31});
    b.quality(run, id, {"math500", "", 500, 1, {"accuracy"}, s.math, 32});
    b.quality(run, id, {"gpqa", "", 198, 4, {"accuracy"}, s.gpqa, 33});
    b.quality(run, id, {"mbpp", "", 500, 1, {"pass@1"}, s.mbpp, 34});
    PerfPlan p;
    p.concurrency = {1, 8, 32, 128};
    p.speedup = s.speedup;
    short_and_long(b, run, id, p, 2.5, 9);
  }
  b.finish(run);
}

void build_tiny_fixture(const std::string& path) {
  FixtureBuilder b(path);
  int64_t run = b.run("quickstart");
  std::vector<FixtureModel> models = {{"teacher", 4, 0}, {"H-25", 3, 1}, {"H-30", 2, 2}, {"H-40", 1, 3}};
  double speed = 1.0;
  for (const auto& m : models) {
    int64_t id = b.model(m);
    b.quality(run, id, {"gsm8k", "", 4, 1, {"accuracy/flexible", "accuracy/strict"}, 0.0, 41});
    b.quality(run, id, {"math500", "", 4, 1, {"accuracy"}, 0.0, 42});
    b.quality(run, id, {"aime24", "", 3, 2, {"accuracy"}, 0.0, 43});
    b.quality(run, id, {"gpqa", "", 4, 1, {"accuracy"}, 0.0, 44});
    PerfPlan p;
    p.shape = "16:32";
    p.concurrency = {1, 4};
    p.repeats = 2;
    p.speedup = speed;
    p.noise = 0.05;
    b.perf(run, id, p);
    speed += 0.1;
  }
  b.finish(run);
}

}  // namespace hb::reports::testing
