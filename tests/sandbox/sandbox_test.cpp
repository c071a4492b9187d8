// The MBPP sandbox against hostile programs: each one ends as failed/timeout/crashed with a reason, within
// its time limit, with no process left behind and nothing written outside its directory.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "harness/sandbox/sandbox_code_runner.h"

namespace hb::sandbox {
namespace {

using Status = suites::RunResult::Status;

SandboxCodeRunner& runner() {
  static SandboxCodeRunner r(SandboxOptions{});
  return r;
}

suites::RunResult run(const std::string& program, double timeout_s = 5.0) {
  auto t0 = std::chrono::steady_clock::now();
  suites::RunResult r = runner().run(program, timeout_s);
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(wall, timeout_s + 3.0) << "the run overstayed its limit";
  EXPECT_FALSE(r.status != Status::passed && r.reason.empty()) << "every failure carries a reason";
  return r;
}

TEST(Sandbox, PassingProgram) {
  auto r = run("def f(x):\n    return x + 1\nassert f(1) == 2\nprint('ok')\n");
  EXPECT_EQ(r.status, Status::passed) << r.reason << r.stderr_tail;
  EXPECT_EQ(r.stdout_tail, "ok\n");
}

TEST(Sandbox, FailingAssertIsFailedWithTheError) {
  auto r = run("assert 1 == 2\n");
  EXPECT_EQ(r.status, Status::failed);
  EXPECT_NE(r.stderr_tail.find("AssertionError"), std::string::npos);
}

TEST(Sandbox, SyntaxErrorIsFailed) {
  auto r = run("def f(:\n");
  EXPECT_EQ(r.status, Status::failed);
  EXPECT_NE(r.stderr_tail.find("SyntaxError"), std::string::npos);
}

TEST(Sandbox, SleepForeverTimesOut) {
  auto r = run("import time\nwhile True:\n    time.sleep(1)\n", 1.0);
  EXPECT_EQ(r.status, Status::timeout) << r.reason;
}

TEST(Sandbox, BusyLoopTimesOut) {
  auto r = run("while True:\n    pass\n", 1.0);
  EXPECT_TRUE(r.status == Status::timeout || r.status == Status::crashed) << r.reason;
}

TEST(Sandbox, ForkBombIsContained) {
  auto r = run("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n", 2.0);
  EXPECT_NE(r.status, Status::passed) << r.reason;
  // The machine stays usable: this process can still fork.
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) _exit(0);
  int status;
  waitpid(pid, &status, 0);
  // And the sandbox still runs programs.
  EXPECT_EQ(run("print(1)\n").status, Status::passed);
}

TEST(Sandbox, BackgroundChildIsKilled) {
  // A daemonised child that escapes the process group with setsid must not survive the run.
  auto r = run(
      "import os, time\n"
      "pid = os.fork()\n"
      "if pid == 0:\n"
      "    os.setsid()\n"
      "    open('child.pid','w').write(str(os.getpid()))\n"
      "    time.sleep(1000)\n"
      "else:\n"
      "    time.sleep(0.3)\n"
      "    print(open('child.pid').read())\n",
      5.0);
  ASSERT_EQ(r.status, Status::passed) << r.reason << r.stderr_tail;
  pid_t child = std::stoi(r.stdout_tail);
  if (geteuid() == 0) {
    // Root mode kills every process of the slot uid.
    bool gone = false;
    for (int i = 0; i < 100 && !gone; ++i) {
      // Dead means gone or a zombie waiting for init to reap it.
      std::ifstream st("/proc/" + std::to_string(child) + "/stat");
      std::string pid_s, comm, state;
      gone = !(st >> pid_s >> comm >> state) || state == "Z";
      if (!gone) usleep(10000);
    }
    EXPECT_TRUE(gone) << "pid " << child << " survived";
  }
}

TEST(Sandbox, AllocatingTenGigabytesFails) {
  auto r = run("x = bytearray(10 * 1024**3)\nprint(len(x))\n");
  EXPECT_NE(r.status, Status::passed);
  EXPECT_NE(r.reason.find("memory"), std::string::npos) << r.reason;
}

TEST(Sandbox, PrintingGigabytesIsCapped) {
  auto r = run("import sys\nchunk = 'x' * (1 << 20)\nwhile True:\n    sys.stdout.write(chunk)\n", 10.0);
  EXPECT_NE(r.status, Status::passed);
  EXPECT_LE(r.stdout_tail.size(), 8u << 10);
  EXPECT_TRUE(r.output_truncated);
}

TEST(Sandbox, WritingOutsideTheDirectoryFails) {
  std::string target = std::string(HB_BINARY_DIR) + "/sandbox_escape_test.txt";
  ::unlink(target.c_str());
  auto r = run("open('../escape.txt', 'w').write('x')\n");
  EXPECT_EQ(r.status, Status::failed) << r.reason;
  if (geteuid() == 0) {
    auto r2 = run("open('" + target + "', 'w').write('x')\n");
    EXPECT_EQ(r2.status, Status::failed) << r2.reason;
    EXPECT_NE(access(target.c_str(), F_OK), 0) << "the program wrote " << target;
  }
}

TEST(Sandbox, SocketsCannotReachTheNetwork) {
  if (!runner().network_isolated()) GTEST_SKIP() << "no network namespace on this machine: " << runner().describe();
  auto r = run(
      "import socket\n"
      "s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n"
      "s.settimeout(2)\n"
      "s.connect(('1.1.1.1', 80))\n"
      "print('connected')\n");
  EXPECT_EQ(r.status, Status::failed) << r.reason;
  EXPECT_EQ(r.stdout_tail.find("connected"), std::string::npos);
}

TEST(Sandbox, RunsProgramsInParallel) {
  std::vector<std::string> programs(4, "import time\ntime.sleep(0.5)\n");
  auto t0 = std::chrono::steady_clock::now();
  auto results = runner().run_all(programs, 5.0);
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double sum = 0;
  for (const auto& r : results) {
    EXPECT_EQ(r.status, Status::passed) << r.reason;
    sum += r.wall_s;
  }
  // Two slots: the batch takes about half the sum of the runs (robust to a loaded machine).
  EXPECT_LT(wall, 0.8 * sum) << "batch " << wall << " s, runs " << sum << " s in total";
}

}  // namespace
}  // namespace hb::sandbox
