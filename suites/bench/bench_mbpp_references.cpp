// Running the 500 MBPP test-split reference solutions through the sandbox, 2 programs at a time (target on
// 2 cores: < 30 s), and the whole hostile corpus of tests/sandbox/hostile (target: < 60 s). One iteration
// each: these are wall-clock measurements of whole batches (docs/PERFORMANCE-SUITES.md).
#include <benchmark/benchmark.h>

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "datasets/catalog.h"
#include "harness/sandbox/sandbox_code_runner.h"
#include "suites/mbpp/mbpp_suite.h"
#include "tests/sandbox/hostile_manifest.h"

namespace {

// CPU seconds (user + system) of every reaped descendant: the boxes' cost whatever the machine's load.
double children_cpu_s() {
  struct rusage u;
  getrusage(RUSAGE_CHILDREN, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

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
  o.unsafe_no_sandbox = state.range(1) != 0;  // the same programs without isolation: the cost of the box
  hb::sandbox::SandboxCodeRunner runner(o);
  int passed = 0;
  double cpu0 = children_cpu_s();
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
  state.counters["children_cpu_s"] = children_cpu_s() - cpu0;
}
BENCHMARK(BM_RunMbppReferences)->ArgNames({"parallel", "unsafe"})->Args({2, 0})->Args({2, 1})->Iterations(1)
    ->Unit(benchmark::kSecond)->UseRealTime();

// The cost of one box: a program that does nothing, one at a time (compare `python3 -I -B -c pass`).
void BM_EmptyProgramInABox(benchmark::State& state) {
  hb::sandbox::SandboxOptions o;
  o.parallelism = 1;
  o.unsafe_no_sandbox = state.range(0) != 0;
  hb::sandbox::SandboxCodeRunner runner(o);
  double cpu0 = children_cpu_s();
  for (auto _ : state) {
    if (!runner.run("pass\n", 10.0).passed()) state.SkipWithError("an empty program failed");
  }
  state.counters["children_cpu_ms_per_program"] = (children_cpu_s() - cpu0) * 1000 / static_cast<double>(state.iterations());
}
BENCHMARK(BM_EmptyProgramInABox)->ArgName("unsafe")->Arg(0)->Arg(1)->Iterations(50)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_RunHostileCorpus(benchmark::State& state) {
  auto corpus = hb::sandbox::testing::load_hostile_corpus(HB_BENCH_HOSTILE_DIR);
  hb::sandbox::SandboxOptions o;
  o.parallelism = static_cast<int>(state.range(0));
  hb::sandbox::SandboxCodeRunner runner(o);
  int as_expected = 0;
  double cpu0 = children_cpu_s();
  for (auto _ : state) {
    std::atomic<size_t> next{0};
    std::atomic<int> ok{0};
    auto worker = [&] {
      for (size_t i = next++; i < corpus.size(); i = next++) {
        const auto& c = corpus[i];
        std::string program = hb::sandbox::testing::fill_placeholders(
            c.program, {{"PROBE", "/nonexistent/hb-probe"}, {"SECRET", "/nonexistent/hb-probe/secret.jsonl"},
                        {"SOCK", "/nonexistent/hb-probe/sock"}, {"PORT", "9"}, {"MARKER", "hbbench"},
                        {"PARENT_PID", std::to_string(getpid())}});
        auto r = runner.run(program, c.timeout_s);
        bool expected = false;
        for (const auto& s : c.statuses) expected = expected || s == hb::suites::run_status_name(r.status);
        if (expected) ++ok;
        else std::fprintf(stderr, "%s: %s: %s\n", c.file.c_str(), hb::suites::run_status_name(r.status), r.reason.c_str());
      }
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < o.parallelism; ++t) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
    as_expected = ok;
  }
  state.counters["programs"] = static_cast<double>(corpus.size());
  state.counters["as_expected"] = as_expected;
  state.counters["children_cpu_s"] = children_cpu_s() - cpu0;
}
BENCHMARK(BM_RunHostileCorpus)->Arg(2)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
