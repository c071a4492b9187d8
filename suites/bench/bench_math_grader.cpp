// Grading 500 MATH500 completions (the gold solutions, reasoning-length text with a final \boxed{}) through
// the MATH500 suite: extraction + normalisation + parsing + equivalence. Target: < 100 ms on one core.
#include <benchmark/benchmark.h>

#include "datasets/catalog.h"
#include "suites/math/math_equal.h"
#include "suites/suite.h"

namespace {

using namespace hb::suites;

struct Fixture {
  std::unique_ptr<Suite> suite;
  std::vector<Item> items;
  std::vector<Completion> completions;
  Fixture() {
    hb::datasets::Catalog catalog(HB_BENCH_DATASETS_DIR, false);
    suite = make_suite("math500", {});
    items = suite->load(catalog);
    for (const auto& it : items) {
      Completion c;
      c.turns = {"<think>Let me work through this carefully.</think>\n" + it.fields.at("solution").get<std::string>()};
      c.reasoning = {""};
      c.finish_reasons = {"stop"};
      completions.push_back(c);
    }
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

void BM_GradeMath500Completions(benchmark::State& state) {
  auto& f = fixture();
  ScoringContext ctx;
  int correct = 0;
  for (auto _ : state) {
    correct = 0;
    for (size_t i = 0; i < f.items.size(); ++i) correct += f.suite->grade(f.items[i], f.completions[i], ctx).scores.at("accuracy") == 1.0;
    benchmark::DoNotOptimize(correct);
  }
  state.counters["items"] = static_cast<double>(f.items.size());
  state.counters["correct"] = correct;
  state.counters["us_per_item"] = benchmark::Counter(static_cast<double>(f.items.size()),
                                                      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_GradeMath500Completions)->Unit(benchmark::kMillisecond);

void BM_MathEqualOnly(benchmark::State& state) {
  auto& f = fixture();
  for (auto _ : state) {
    int eq = 0;
    for (const auto& it : f.items) {
      const std::string a = it.fields.at("answer").get<std::string>();
      eq += math::math_equal(a, a + " ").equal;
    }
    benchmark::DoNotOptimize(eq);
  }
}
BENCHMARK(BM_MathEqualOnly)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
