// The engine's LibTorch half is libhybench_engine.so, opened on first use (models/engine_module.h): the
// hybench executable links no LibTorch, commands that need no model never open the module, one that needs it
// finds it beside the executable, and a missing or foreign module is a one-line error with what to do.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "child_process.h"
#include "harness/base/files.h"

namespace hb::test {
namespace {

namespace fs = std::filesystem;

class EngineModuleEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("hb_module_e2e_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    ::unsetenv("HYBENCH_ENGINE_MODULE");
  }
  void TearDown() override {
    ::unsetenv("HYBENCH_ENGINE_MODULE");
    fs::remove_all(dir_);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  static std::string binary(const std::string& name) { return std::string(HB_BINARY_DIR) + "/" + name; }
  int run(std::vector<std::string> args, double timeout_s = 120) {
    args.insert(args.begin(), binary("hybench"));
    return run_program(args, path("out.txt"), path("err.txt"), timeout_s);
  }
  std::string out() const { return read_file(path("out.txt")); }
  std::string err() const { return read_file(path("err.txt")); }
  // A program on $PATH ("" when absent).
  static std::string on_path(const std::string& name) {
    const char* env = std::getenv("PATH");
    std::string dirs = env ? env : "/usr/bin:/bin";
    size_t start = 0;
    while (start <= dirs.size()) {
      const size_t end = std::min(dirs.find(':', start), dirs.size());
      const std::string candidate = dirs.substr(start, end - start) + "/" + name;
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
      start = end + 1;
    }
    return "";
  }
  // The dynamic section of an ELF file (its NEEDED entries), as readelf prints it.
  std::string needed(const std::string& file) {
    EXPECT_EQ(run_program({on_path("readelf"), "-d", file}, path("elf.txt"), path("elf_err.txt"), 30), 0)
        << read_file(path("elf_err.txt"));
    return read_file(path("elf.txt"));
  }
  std::vector<std::string> generate_tiny() {
    return {"generate", "--model", "native:preset:tiny/h30,device=cpu", "--prompt", "2+2=", "--max-tokens", "3", "--json"};
  }
  fs::path dir_;
};

TEST_F(EngineModuleEndToEnd, TheExecutableLinksNoLibTorchAndTheModuleDoes) {
  if (on_path("readelf").empty()) GTEST_SKIP() << "readelf (binutils) is not installed";
  const std::string exe = needed(binary("hybench"));
  EXPECT_NE(exe.find("NEEDED"), std::string::npos) << exe;
  EXPECT_EQ(exe.find("torch"), std::string::npos) << exe;
  EXPECT_EQ(exe.find("libc10"), std::string::npos) << exe;
  ASSERT_TRUE(file_exists(binary("libhybench_engine.so")));
  EXPECT_NE(needed(binary("libhybench_engine.so")).find("torch"), std::string::npos);
}

TEST_F(EngineModuleEndToEnd, CommandsWithoutAModelNeverOpenTheModule) {
  // A module path that cannot load: any command that tried would fail.
  ::setenv("HYBENCH_ENGINE_MODULE", path("absent.so").c_str(), 1);
  ASSERT_EQ(run({"models", "inspect", "preset:apriel-h1-15b/h40", "--json"}), 0) << err();
  EXPECT_NE(out().find("\"layers\""), std::string::npos) << out();
  ASSERT_EQ(run({"--help"}), 0) << err();
}

TEST_F(EngineModuleEndToEnd, TheModuleBesideTheExecutableRunsTheEngine) {
  ASSERT_EQ(run(generate_tiny()), 0) << err();
  EXPECT_NE(out().find("\"finish_reason\""), std::string::npos) << out();
  // The same module named explicitly.
  ::setenv("HYBENCH_ENGINE_MODULE", binary("libhybench_engine.so").c_str(), 1);
  ASSERT_EQ(run(generate_tiny()), 0) << err();
}

TEST_F(EngineModuleEndToEnd, AnInstalledHybenchFindsItsModuleUnderLib) {
  const std::string prefix = path("prefix");
  ASSERT_EQ(run_program({HB_CMAKE_COMMAND, "--install", HB_BINARY_DIR, "--prefix", prefix}, path("install.txt"),
                        path("install_err.txt"), 120),
            0)
      << read_file(path("install_err.txt"));
  ASSERT_TRUE(file_exists(prefix + "/bin/hybench"));
  ASSERT_TRUE(file_exists(prefix + "/lib/hybench/libhybench_engine.so"));
  std::vector<std::string> args = generate_tiny();
  args.insert(args.begin(), prefix + "/bin/hybench");
  ASSERT_EQ(run_program(args, path("out.txt"), path("err.txt"), 120), 0) << err();
  EXPECT_NE(out().find("\"finish_reason\""), std::string::npos) << out();
}

TEST_F(EngineModuleEndToEnd, AMissingModuleIsAOneLineErrorNamingTheVariable) {
  ::setenv("HYBENCH_ENGINE_MODULE", path("absent.so").c_str(), 1);
  EXPECT_EQ(run(generate_tiny()), 2);
  const std::string e = err();
  EXPECT_NE(e.find("HYBENCH_ENGINE_MODULE"), std::string::npos) << e;
  EXPECT_NE(e.find("absent.so"), std::string::npos) << e;
  EXPECT_NE(e.find("no such file"), std::string::npos) << e;
  EXPECT_EQ(std::count(e.begin(), e.end(), '\n'), 1) << e;
}

TEST_F(EngineModuleEndToEnd, AFileThatIsNotAModuleIsRefusedWithTheLoadersReason) {
  write_file(path("fake.so"), "not an ELF file\n");
  ::setenv("HYBENCH_ENGINE_MODULE", path("fake.so").c_str(), 1);
  EXPECT_EQ(run(generate_tiny()), 2);
  const std::string e = err();
  EXPECT_NE(e.find("cannot load the native engine module"), std::string::npos) << e;
  EXPECT_NE(e.find("fake.so"), std::string::npos) << e;
  // A real shared library without the entry point.
  ::setenv("HYBENCH_ENGINE_MODULE", "/lib/x86_64-linux-gnu/libz.so.1", 1);
  if (file_exists("/lib/x86_64-linux-gnu/libz.so.1")) {
    EXPECT_EQ(run(generate_tiny()), 2);
    EXPECT_NE(err().find("is not a hybench engine module"), std::string::npos) << err();
  }
}

}  // namespace
}  // namespace hb::test
