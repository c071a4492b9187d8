#pragma once
// A test with its own temporary directory and, on demand, an hb_loopback_server child process.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "child_process.h"

namespace hb::test {

class E2eTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  // (Re)starts hb_loopback_server with these extra arguments; returns its URL http://127.0.0.1:PORT/v1.
  std::string start_loopback(const std::vector<std::string>& extra);

  std::filesystem::path dir_;
  std::unique_ptr<ChildProcess> server_;
};

}  // namespace hb::test
