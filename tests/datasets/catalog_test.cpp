#include "datasets/catalog.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "harness/base/error.h"
#include "harness/base/files.h"

namespace hb::datasets {
namespace {

TEST(Catalog, EveryManifestFileOfTheSharedMirrorVerifies) {
  Catalog catalog(HB_TEST_DATASETS_DIR, /*allow_download=*/false);
  auto checks = catalog.verify_all();
  ASSERT_EQ(checks.size(), manifest().size());
  for (const auto& c : checks) EXPECT_TRUE(c.ok) << c.entry->file << ": " << c.problem;
  EXPECT_NE(catalog.path("gsm8k/test.jsonl").find("gsm8k/test.jsonl"), std::string::npos);
}

TEST(Catalog, AlteredByteFailsWithFileNameAndBothHashes) {
  auto dir = std::filesystem::temp_directory_path() / ("hb_catalog_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "gsm8k");
  std::string content = read_file(std::string(HB_TEST_DATASETS_DIR) + "/gsm8k/test.jsonl");
  content[100] = static_cast<char>(content[100] ^ 1);
  write_file((dir / "gsm8k" / "test.jsonl").string(), content);
  Catalog catalog(dir.string(), false);
  try {
    catalog.path("gsm8k/test.jsonl");
    FAIL() << "expected a hash mismatch";
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("gsm8k/test.jsonl"), std::string::npos);
    EXPECT_NE(e.message().find(find_entry("gsm8k/test.jsonl")->sha256), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("has sha256 "), std::string::npos);
  }
  auto checks = catalog.verify_all();
  bool seen = false;
  for (const auto& c : checks)
    if (c.entry->file == "gsm8k/test.jsonl") {
      seen = true;
      EXPECT_FALSE(c.ok);
      EXPECT_EQ(c.actual_sha256.size(), 64u);
    }
  EXPECT_TRUE(seen);
  std::filesystem::remove_all(dir);
}

TEST(Catalog, UnknownFileSuggestsTheClosestName) {
  Catalog catalog(HB_TEST_DATASETS_DIR, false);
  try {
    catalog.path("gsm8k/tset.jsonl");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("did you mean 'gsm8k/test.jsonl'"), std::string::npos) << e.message();
  }
}

TEST(Catalog, MissingDataDirIsAUsageError) {
  EXPECT_THROW(Catalog("/nonexistent/hybench/data", false), Error);
}

TEST(Catalog, MissingFileWithoutDownloadSaysWhatToDo) {
  auto dir = std::filesystem::temp_directory_path() / ("hb_catalog_empty_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  setenv("XDG_CACHE_HOME", (dir / "cache").c_str(), 1);
  Catalog catalog(dir.string(), false);
  try {
    catalog.path("math500/test.jsonl");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(e.message().find("hybench datasets fetch"), std::string::npos) << e.message();
  }
  unsetenv("XDG_CACHE_HOME");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hb::datasets
