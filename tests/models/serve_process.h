#pragma once
// The real `hybench serve` binary on a port of its own, for the serve tests (test_serve*.cpp): one process
// per test binary, on the committed 4-layer Apriel hybrid checkpoint with its BPE tokenizer, fast enough
// for many requests. Its stderr (the access log) goes to a file the tests read.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace hb::testing_serve {

class ServeProcess {
 public:
  // stderr (the access log) goes to `log_path`.
  ServeProcess(const std::string& model, const std::string& log_path) : log_path_(log_path) {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (log >= 0) ::dup2(log, 2);
      std::string bin = std::string(HB_BINARY_DIR) + "/hybench";
      ::execl(bin.c_str(), bin.c_str(), "serve", "--model", model.c_str(), "--port", "0", "--threads", "1",
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[1]);
    FILE* f = ::fdopen(fds[0], "r");
    char line[512] = {0};
    if (std::fgets(line, sizeof line, f)) port_ = nlohmann::json::parse(line).value("port", 0);
    std::fclose(f);
  }
  ~ServeProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }
  std::string log() const {
    std::ifstream f(log_path_);
    return std::string(std::istreambuf_iterator<char>(f), {});
  }

 private:
  std::string log_path_;
  pid_t pid_ = -1;
  int port_ = 0;
};

inline ServeProcess& server() {
  static ServeProcess s(std::string("native:") + HB_TEST_DATA_DIR + "/engine/hybrid-tiny", ::testing::TempDir() + "/serve_test.log");
  return s;
}

}  // namespace hb::testing_serve
