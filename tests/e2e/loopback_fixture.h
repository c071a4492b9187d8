#pragma once
// A temporary directory per test, the loopback server as a child process (with extra arguments such as
// --fault), and small helpers to read the results database and the server's request log.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "child_process.h"
#include "harness/base/files.h"
#include "harness/store/sqlite.h"

namespace hb::test {

class LoopbackFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("hb_e2e_" + std::to_string(::getpid()) + "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  // Starts hb_loopback_server with these extra arguments; url_ becomes its openai: spec.
  void start_server(const std::vector<std::string>& extra) {
    std::vector<std::string> argv{std::string(HB_BINARY_DIR) + "/hb_loopback_server", "--port-file", path("port"), "--log",
                                  path("requests.log")};
    argv.insert(argv.end(), extra.begin(), extra.end());
    server_ = std::make_unique<ChildProcess>(argv, path("server.out"), path("server.err"));
    for (int i = 0; i < 500 && !std::filesystem::exists(path("port")); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE(std::filesystem::exists(path("port"))) << read_file(path("server.err"));
    std::string port = read_file(path("port"));
    while (!port.empty() && (port.back() == '\n' || port.back() == ' ')) port.pop_back();
    port_ = port;
    url_ = "openai:http://127.0.0.1:" + port + "/v1";
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string hybench() const { return std::string(HB_BINARY_DIR) + "/hybench"; }
  int64_t count(const std::string& sql, const std::string& file = "r.db") const {
    store::Db db(path(file), store::Db::Mode::read_only);
    auto q = db.prepare(sql);
    return q.step() ? q.int64(0) : -1;
  }
  std::vector<nlohmann::json> request_log() const {
    std::vector<nlohmann::json> out;
    std::ifstream in(path("requests.log"));
    std::string line;
    while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
    return out;
  }
  static std::string last_line(const std::string& text) {
    std::string t = text;
    while (!t.empty() && t.back() == '\n') t.pop_back();
    auto nl = t.rfind('\n');
    return nl == std::string::npos ? t : t.substr(nl + 1);
  }
  std::filesystem::path dir_;
  std::unique_ptr<ChildProcess> server_;
  std::string url_, port_;
};

}  // namespace hb::test
