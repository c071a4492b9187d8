#include "e2e_fixture.h"

#include <unistd.h>

#include <chrono>
#include <thread>

#include "harness/base/files.h"

namespace hb::test {

namespace fs = std::filesystem;

void E2eTest::SetUp() {
  dir_ = fs::temp_directory_path() / ("hb_e2e_" + std::to_string(::getpid()) + "_" +
                                      ::testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::remove_all(dir_);
  fs::create_directories(dir_);
}

void E2eTest::TearDown() {
  server_.reset();
  fs::remove_all(dir_);
}

std::string E2eTest::start_loopback(const std::vector<std::string>& extra) {
  server_.reset();
  fs::remove(path("port"));
  std::vector<std::string> argv{std::string(HB_BINARY_DIR) + "/hb_loopback_server", "--port-file", path("port")};
  argv.insert(argv.end(), extra.begin(), extra.end());
  server_ = std::make_unique<ChildProcess>(argv, path("server.out"), path("server.err"));
  for (int i = 0; i < 500 && !fs::exists(path("port")); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::string port = fs::exists(path("port")) ? read_file(path("port")) : "";
  while (!port.empty() && (port.back() == '\n' || port.back() == ' ')) port.pop_back();
  EXPECT_FALSE(port.empty()) << read_file(path("server.err"));
  return "http://127.0.0.1:" + port + "/v1";
}

}  // namespace hb::test
