// Every suite variant of this issue (GSM8K is the lead's and tested in tests/suites/gsm8k): it is registered, loads its items, renders a prompt for each, and its prompt hash
// matches tests/data/suites/prompt_hashes.golden. A changed hash means the prompts changed: bump the
// suite's version, then regenerate with HB_UPDATE_GOLDEN=1 and review the diff like code.
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "datasets/catalog.h"
#include "harness/base/files.h"
#include "suites/suite.h"

namespace hb::suites {
namespace {

const std::vector<std::pair<std::string, size_t>> kVariants = {
    {"math500:chat", 500}, {"math500:minerva4", 500}, {"aime24:chat", 30}, {"aime25:chat", 30},
    {"gpqa:chat", 198},    {"mbpp:chat", 500},        {"mbpp:3shot", 500}, {"mt_bench:single", 80},
};

TEST(SuiteRegistry, EveryVariantLoadsRendersAndKeepsItsPromptHash) {
  datasets::Catalog catalog(HB_TEST_DATASETS_DIR, false);
  std::string golden_path = std::string(HB_TEST_DATA_DIR) + "/suites/prompt_hashes.golden";
  std::map<std::string, std::string> golden;
  {
    std::ifstream in(golden_path);
    std::string name, version, hash;
    while (in >> name >> version >> hash) golden[name] = version + " " + hash;
  }
  std::string actual;
  for (const auto& [spec, count] : kVariants) {
    auto suite = make_suite(spec, {});
    auto items = suite->load(catalog);
    EXPECT_EQ(items.size(), count) << spec;
    for (const auto& item : items) {
      PromptPlan p = suite->prompt(item);
      EXPECT_TRUE(!p.user_turns.empty() || p.raw_prompt) << spec << " " << item.id;
    }
    std::string line = suite->info().version + " " + suite->prompt_hash();
    actual += spec + " " + line + "\n";
    if (!std::getenv("HB_UPDATE_GOLDEN")) {
      EXPECT_EQ(golden[spec], line) << spec << ": prompts changed; bump the version and regenerate";
    }
  }
  if (std::getenv("HB_UPDATE_GOLDEN")) write_file(golden_path, actual);
  auto names = suite_names();
  for (const char* n : {"math500", "aime24", "aime25", "gpqa", "mbpp", "mt_bench", "gsm8k"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
}

}  // namespace
}  // namespace hb::suites
