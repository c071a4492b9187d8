// hybench datasets list|verify|fetch
#include <cstdio>

#include "datasets/catalog.h"
#include "harness/base/console.h"
#include "harness/base/error.h"
#include "harness/cli/commands.h"

namespace hb::cli {
namespace {

int run_list(const std::string& data_dir) {
  datasets::Catalog catalog(data_dir);
  std::printf("%-10s %-52s %-9s %s\n", "suite", "file", "status", "license");
  for (const auto& c : catalog.verify_all()) {
    const char* status = c.where.empty() ? "missing" : c.ok ? "ok" : "BAD";
    std::printf("%-10s %-52s %-9s %s\n", c.entry->suite.c_str(), c.entry->file.c_str(), status, c.entry->license.c_str());
  }
  std::printf("mirror: %s\ncache:  %s\n", catalog.data_dir().empty() ? "(none)" : catalog.data_dir().c_str(),
              catalog.cache_dir().c_str());
  return kExitOk;
}

int run_verify(const std::string& data_dir, bool allow_missing) {
  datasets::Catalog catalog(data_dir);
  int bad = 0, missing = 0, ok = 0;
  for (const auto& c : catalog.verify_all()) {
    if (c.where.empty()) {
      ++missing;
      std::printf("MISSING %s\n", c.entry->file.c_str());
    } else if (!c.ok) {
      ++bad;
      std::printf("BAD     %s: %s has sha256 %s, expected %s\n", c.entry->file.c_str(), c.where.c_str(),
                  c.actual_sha256.c_str(), c.entry->sha256.c_str());
    } else {
      ++ok;
      std::printf("ok      %s\n", c.entry->file.c_str());
    }
  }
  std::printf("%d ok, %d bad, %d missing\n", ok, bad, missing);
  if (bad > 0) {
    log_error("{} dataset file(s) do not match the manifest; restore them or re-fetch with `hybench datasets fetch --force`", bad);
    return kExitRunFailed;
  }
  if (missing > 0 && !allow_missing) {
    log_error("{} dataset file(s) are missing; run `hybench datasets fetch` or pass --data-dir", missing);
    return kExitRunFailed;
  }
  return kExitOk;
}

int run_fetch(const std::string& data_dir, bool force) {
  datasets::Catalog catalog(data_dir);
  auto fetched = catalog.fetch_all(force);
  std::printf("fetched %zu file(s) into %s\n", fetched.size(), catalog.cache_dir().c_str());
  return kExitOk;
}

}  // namespace

void add_datasets_command(CLI::App& root, int& exit_code) {
  CLI::App* app = root.add_subcommand("datasets", "List, verify or fetch the suite data files");
  app->require_subcommand(1);
  auto data_dir = std::make_shared<std::string>();
  auto allow_missing = std::make_shared<bool>(false);
  auto force = std::make_shared<bool>(false);
  auto* list = app->add_subcommand("list", "Every data file of the manifest with its status and license");
  list->add_option("--data-dir", *data_dir, "Local mirror laid out as <suite>/<file> (also HYBENCH_DATA_DIR)");
  list->callback([=, &exit_code] { exit_code = run_list(*data_dir); });
  auto* verify = app->add_subcommand("verify", "Check every local data file against its sha256");
  verify->add_option("--data-dir", *data_dir, "Local mirror laid out as <suite>/<file> (also HYBENCH_DATA_DIR)");
  verify->add_flag("--allow-missing", *allow_missing, "Do not fail on files that are not present");
  verify->callback([=, &exit_code] { exit_code = run_verify(*data_dir, *allow_missing); });
  auto* fetch = app->add_subcommand("fetch", "Download missing data files from upstream into the cache, verified");
  fetch->add_flag("--force", *force, "Download again even when the cached copy is valid");
  fetch->callback([=, &exit_code] { exit_code = run_fetch("", *force); });
}

}  // namespace hb::cli
