// Running the 500 MBPP test-split reference solutions through the sandbox, 2 programs at a time (the
// 2-core target: < 60 s). One iteration: this is a wall-clock measurement of the whole batch.
#include <benchmark/benchmark.h>

#include <cstdio>

#include "datasets/catalog.h"
#include "harness/sandbox/sandbox_code_runner.h"
#include "suites/mbpp/mbpp_suite.h"

namespace {

void BM_RunMbppReferences(benchmark::State& state) {
  hb::datasets::Catalog catalog(HB_BENCH_DATASETS_DIR, false);
  auto suite = hb::suites::make_mbpp_suite({});
  auto items = suite->load(catalog);
  std::vector<std::string> programs;
  for (const auto& it : items) {
    std::vector<std::string> tests;
    for (const auto& t : it.fields.at("test_list")) tests.push_back(t.get<std::string>());
    programs.push_back(hb::suites::mbpp_program(it.fields.value("test_setup_code", ""), it.fields.at("code").get<std::string>(), tests));
  }
  hb::sandbox::SandboxOptions o;
  o.parallelism = static_cast<int>(state.range(0));
  hb::sandbox::SandboxCodeRunner runner(o);
  int passed = 0;
  for (auto _ : state) {
    passed = 0;
    auto results = runner.run_all(programs, 10.0);
    for (size_t i = 0; i < results.size(); ++i) {
      passed += results[i].passed();
      if (!results[i].passed())  // a reference that fails points at the sandbox, not at the task
        std::fprintf(stderr, "task %s: %s: %s\n%s\n", items[i].id.c_str(), hb::suites::run_status_name(results[i].status),
                     results[i].reason.c_str(), results[i].stderr_tail.c_str());
    }
  }
  state.counters["programs"] = static_cast<double>(programs.size());
  state.counters["passed"] = passed;
}
BENCHMARK(BM_RunMbppReferences)->Arg(2)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
