#pragma once
// Byte-exact golden comparison: HB_UPDATE_GOLDEN=1 rewrites the golden file instead of comparing.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace hb::reports::testing {

inline std::string golden_path(const std::string& name) { return std::string(HB_TEST_DATA_DIR) + "/reports/" + name; }

inline void expect_golden(const std::string& name, const std::string& actual) {
  const std::string path = golden_path(name);
  const char* update = std::getenv("HB_UPDATE_GOLDEN");
  if (update && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in.good()) << "missing golden " << path << "; run the test with HB_UPDATE_GOLDEN=1 and review it";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string expected = ss.str();
  if (expected != actual) {
    size_t i = 0;
    while (i < expected.size() && i < actual.size() && expected[i] == actual[i]) ++i;
    FAIL() << name << " differs from its golden at byte " << i << ": expected \""
           << expected.substr(i > 40 ? i - 40 : 0, 120) << "\" got \"" << actual.substr(i > 40 ? i - 40 : 0, 120)
           << "\" (HB_UPDATE_GOLDEN=1 regenerates it; review the diff)";
  }
}

// A fresh temporary folder per test.
inline std::string temp_dir(const std::string& tag) {
  std::string tmpl = "/tmp/hb_reports_" + tag + "_XXXXXX";
  std::string buf = tmpl;
  char* p = mkdtemp(buf.data());
  return p ? std::string(p) : std::string("/tmp");
}

}  // namespace hb::reports::testing
