// hybench merge A.db B.db ... --into C.db: combine shards without duplicates, then recompute metrics.
#include <cstdio>

#include "harness/base/console.h"
#include "harness/base/error.h"
#include "harness/cli/commands.h"
#include "harness/runner/eval_runner.h"
#include "harness/store/merge.h"
#include "harness/store/store.h"
#include "suites/suite.h"

namespace hb::cli {
namespace {

struct MergeArgs {
  std::vector<std::string> inputs;
  std::string into;
};

int run_merge(const MergeArgs& a) {
  for (const auto& in : a.inputs)
    if (in == a.into) throw Error(ErrorCode::usage, "merge input '" + in + "' is also the --into target; name another file");
  store::Store into(a.into);
  std::set<std::tuple<int64_t, int64_t, int64_t>> touched;
  std::set<int64_t> merged_runs;
  for (const auto& in : a.inputs) {
    auto st = store::merge_database(into, in);
    std::printf("%s: +%lld runs, +%lld models, +%lld suites, +%lld samples, +%lld perf points, +%lld traces\n", in.c_str(),
                static_cast<long long>(st.runs), static_cast<long long>(st.models), static_cast<long long>(st.suites),
                static_cast<long long>(st.samples), static_cast<long long>(st.perf_points),
                static_cast<long long>(st.traces));
    touched.insert(st.touched.begin(), st.touched.end());
    merged_runs.insert(st.run_ids.begin(), st.run_ids.end());
  }
  // Metrics of each merged group are recomputed over the union of the shards' samples.
  for (const auto& [run_id, model_id, suite_id] : touched) {
    auto q = into.reader().prepare("SELECT name, variant, version FROM suites WHERE id=?");
    q.bind(1, suite_id);
    if (!q.step()) continue;
    std::string name = q.text(0), variant = q.text(1), version = q.text(2);
    std::unique_ptr<suites::Suite> suite;
    try {
      suite = suites::make_suite(name + ":" + variant, {});
    } catch (const Error& e) {
      log_warn("metrics of suite {} not recomputed: {}", name, e.message());
      continue;
    }
    if (suite->info().version != version) {
      log_warn("metrics of suite {} version {} not recomputed: this hybench grades version {}", name, version,
               suite->info().version);
      continue;
    }
    runner::aggregate_and_store(*suite, into, {run_id, model_id, suite_id});
  }
  // The status of each merged run: the worst of its shards' parts (store/merge.cpp), so a failed shard shows
  // here rather than hiding behind a finished one.
  for (int64_t run_id : merged_runs) {
    auto q = into.reader().prepare(
        "SELECT r.name, r.status, COUNT(p.part_key), SUM(p.status = 'failed'), SUM(p.status = 'interrupted'), "
        "SUM(p.status = 'running') FROM runs r LEFT JOIN run_parts p ON p.run_id = r.id WHERE r.id = ? GROUP BY r.id");
    q.bind(1, run_id);
    if (!q.step()) continue;
    std::printf("run '%s': %s", q.text(0).c_str(), q.text(1).c_str());
    if (q.int64(2) > 0)
      std::printf(" (%lld parts: %lld failed, %lld interrupted, %lld unfinished)", static_cast<long long>(q.int64(2)),
                  static_cast<long long>(q.int64(3)), static_cast<long long>(q.int64(4)), static_cast<long long>(q.int64(5)));
    std::printf("\n");
  }
  std::printf("merged %zu database(s) into %s; metrics recomputed for %zu group(s)\n", a.inputs.size(), a.into.c_str(),
              touched.size());
  return kExitOk;
}

}  // namespace

void add_merge_command(CLI::App& root, int& exit_code) {
  auto args = std::make_shared<MergeArgs>();
  CLI::App* app = root.add_subcommand("merge", "Combine result databases (shards of a study) without duplicates");
  app->add_option("inputs", args->inputs, "Databases to merge")->required()->check(CLI::ExistingFile);
  app->add_option("--into", args->into, "Target database (created if missing)")->required();
  app->callback([args, &exit_code] { exit_code = run_merge(*args); });
}

}  // namespace hb::cli
