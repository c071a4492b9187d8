// The MBPP sandbox's behaviour apart from attacks (those are in hostile_corpus_test): programs pass and fail
// as they should, every limit is an option that takes effect, the program text arrives intact, isolation
// that cannot be built is refused with a message naming what is missing, --unsafe-no-sandbox runs anyway
// and says so, and an unprivileged user gets a box too (root only: the test drops to uid 65534).
#include <grp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "harness/base/error.h"
#include "harness/sandbox/sandbox_code_runner.h"

namespace hb::sandbox {
namespace {

using Status = suites::RunResult::Status;

SandboxCodeRunner& runner() {
  static SandboxCodeRunner r(SandboxOptions{});
  return r;
}

suites::RunResult run_with(SandboxCodeRunner& runner, const std::string& program, double timeout_s = 5.0) {
  auto t0 = std::chrono::steady_clock::now();
  suites::RunResult r = runner.run(program, timeout_s);
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(wall, timeout_s + 3.0) << "the run overstayed its limit";
  EXPECT_FALSE(r.status != Status::passed && r.reason.empty()) << "every failure carries a reason";
  return r;
}

suites::RunResult run(const std::string& program, double timeout_s = 5.0) { return run_with(runner(), program, timeout_s); }

SandboxOptions with_limits(void (*set)(SandboxLimits&)) {
  SandboxOptions o;
  o.parallelism = 1;
  set(o.limits);
  return o;
}

TEST(Sandbox, PassingProgramKeepsItsStdout) {
  auto r = run("def f(x):\n    return x + 1\nassert f(1) == 2\nprint('ok')\n");
  EXPECT_EQ(r.status, Status::passed) << r.reason << r.stderr_tail;
  EXPECT_EQ(r.stdout_tail, "ok\n");
  EXPECT_GT(r.wall_s, 0);
}

TEST(Sandbox, FailingAssertIsFailedWithTheError) {
  auto r = run("assert 1 == 2\n");
  EXPECT_EQ(r.status, Status::failed);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.reason, "exit status 1");
  EXPECT_NE(r.stderr_tail.find("AssertionError"), std::string::npos);
}

TEST(Sandbox, SyntaxErrorIsFailed) {
  auto r = run("def f(:\n");
  EXPECT_EQ(r.status, Status::failed);
  EXPECT_NE(r.stderr_tail.find("SyntaxError"), std::string::npos);
}

TEST(Sandbox, ExitStatusAndSignalAreTold) {
  EXPECT_EQ(run("import sys\nsys.exit(7)\n").reason, "exit status 7");
  auto r = run("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n");
  EXPECT_EQ(r.status, Status::crashed);
  EXPECT_EQ(r.signal, SIGSEGV);
  EXPECT_NE(r.reason.find("segmentation fault"), std::string::npos) << r.reason;
}

TEST(Sandbox, ProgramTextArrivesIntact) {
  // Quotes, backslashes, non-ASCII, a NUL inside a string literal's escape, and a megabyte of code.
  std::string program = "s = 'a\\'b\"c\\\\d\\x00é€'\nassert len(s) == 10, len(s)\n";
  for (int i = 0; i < 20000; ++i) program += "x" + std::to_string(i) + " = " + std::to_string(i) + "  # padding padding\n";
  program += "print(x19999)\n";
  auto r = run(program);
  EXPECT_EQ(r.status, Status::passed) << r.stderr_tail;
  EXPECT_EQ(r.stdout_tail, "19999\n");
}

TEST(Sandbox, NonUtf8OutputIsSanitised) {
  auto r = run("import os\nos.write(1, b'ok \\xff\\xfe end')\n");
  EXPECT_EQ(r.status, Status::passed);
  EXPECT_NE(r.stdout_tail.find("ok"), std::string::npos);
  EXPECT_NE(r.stdout_tail.find("end"), std::string::npos);
}

TEST(Sandbox, DescribeNamesTheIsolationAndTheLimits) {
  std::string d = runner().describe();
  EXPECT_NE(d.find("bubblewrap"), std::string::npos) << d;
  EXPECT_NE(d.find("seccomp"), std::string::npos) << d;
  EXPECT_NE(d.find("tmpfs 64 MiB"), std::string::npos) << d;
  EXPECT_TRUE(runner().isolated());
}

TEST(Sandbox, RunsProgramsInParallel) {
  // Each program prints when it slept; with two slots the two sleeps overlap (a serial runner never
  // overlaps them, however loaded the machine is).
  std::vector<std::string> programs(2, "import time\nt0 = time.time()\ntime.sleep(1.5)\nprint(t0, time.time())\n");
  auto results = runner().run_all(programs, 10.0);
  double start[2], end[2];
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(results[i].status, Status::passed) << results[i].reason;
    ASSERT_EQ(std::sscanf(results[i].stdout_tail.c_str(), "%lf %lf", &start[i], &end[i]), 2) << results[i].stdout_tail;
  }
  EXPECT_LT(std::max(start[0], start[1]), std::min(end[0], end[1])) << "the two programs did not run at the same time";
}

TEST(SandboxLimits, WallLimitCapsTheSuiteLimit) {
  SandboxCodeRunner r(with_limits([](SandboxLimits& l) { l.wall_s = 1.0; }));
  auto res = run_with(r, "import time\ntime.sleep(30)\n", 10.0);
  EXPECT_EQ(res.status, Status::timeout);
  EXPECT_LT(res.wall_s, 3.0);
  EXPECT_NE(res.reason.find("1.0 s wall-clock limit"), std::string::npos) << res.reason;
}

TEST(SandboxLimits, CpuLimitKillsASpinningProcess) {
  SandboxCodeRunner r(with_limits([](SandboxLimits& l) { l.cpu_s = 1; }));
  auto res = run_with(r, "while True:\n    pass\n", 8.0);
  // On a loaded machine the wall clock may strike first; either way the spin ends.
  EXPECT_TRUE(res.status == Status::crashed || res.status == Status::timeout) << res.reason;
  if (res.status == Status::crashed) {
    EXPECT_NE(res.reason.find("CPU time limit"), std::string::npos) << res.reason;
  }
}

TEST(SandboxLimits, MemoryLimit) {
  SandboxCodeRunner r(with_limits([](SandboxLimits& l) { l.memory_bytes = 256ull << 20; }));
  EXPECT_EQ(run_with(r, "x = bytearray(64 << 20)\n").status, Status::passed);
  auto res = run_with(r, "x = bytearray(512 << 20)\n");
  EXPECT_EQ(res.status, Status::failed);
  EXPECT_EQ(res.reason, "memory limit (MemoryError)");
}

TEST(SandboxLimits, ProcessLimit) {
  SandboxCodeRunner r(with_limits([](SandboxLimits& l) { l.processes = 4; }));
  auto res = run_with(r,
                      "import threading, time\n"
                      "for i in range(16):\n"
                      "    threading.Thread(target=time.sleep, args=(2,), daemon=True).start()\n");
  EXPECT_EQ(res.status, Status::failed) << res.reason;
  EXPECT_NE(res.stderr_tail.find("can't start new thread"), std::string::npos) << res.stderr_tail;
  EXPECT_EQ(run_with(r, "import os\nif os.fork() == 0:\n    os._exit(0)\nos.wait()\n").status, Status::passed);
}

TEST(SandboxLimits, FileSizeLimit) {
  SandboxCodeRunner r(with_limits([](SandboxLimits& l) { l.file_size_bytes = 1 << 20; }));
  EXPECT_EQ(run_with(r, "open('f', 'wb').write(b'x' * 500000)\n").status, Status::passed);
  auto res = run_with(r, "open('f', 'wb').write(b'x' * (2 << 20))\n");
  EXPECT_EQ(res.status, Status::failed);
  EXPECT_NE(res.stderr_tail.find("File too large"), std::string::npos) << res.stderr_tail;
}

TEST(SandboxLimits, TmpfsSizeLimit) {
  SandboxCodeRunner r(with_limits([](SandboxLimits& l) { l.tmpfs_bytes = 4 << 20; }));
  EXPECT_EQ(run_with(r, "open('/tmp/f', 'wb').write(b'x' * (2 << 20))\n").status, Status::passed);
  auto res = run_with(r, "open('/var/tmp/f', 'wb').write(b'x' * (8 << 20))\n");
  EXPECT_EQ(res.status, Status::failed);
  EXPECT_NE(res.stderr_tail.find("No space left on device"), std::string::npos) << res.stderr_tail;
}

TEST(SandboxLimits, OutputLimitAndTail) {
  SandboxCodeRunner r(with_limits([](SandboxLimits& l) {
    l.output_bytes = 256 << 10;
    l.output_tail_bytes = 100;
  }));
  auto res = run_with(r, "import sys\nfor i in range(100000):\n    print('line', i)\n");
  EXPECT_EQ(res.status, Status::crashed);
  EXPECT_NE(res.reason.find("output limit"), std::string::npos) << res.reason;
  EXPECT_LE(res.stdout_tail.size(), 100u);
  EXPECT_TRUE(res.output_truncated);
  auto small = run_with(r, "print('a' * 150)\nprint('end')\n");
  EXPECT_EQ(small.status, Status::passed);
  EXPECT_EQ(small.stdout_tail.size(), 100u);
  EXPECT_EQ(small.stdout_tail.substr(96), "end\n") << "the tail keeps the last bytes";
}

TEST(SandboxRefusal, NoBubblewrapNamesWhatIsMissing) {
  SandboxOptions o;
  o.bwrap = "/nonexistent/bwrap";
  try {
    SandboxCodeRunner r(o);
    FAIL() << "a runner without bubblewrap was built: " << r.describe();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::config);
    EXPECT_NE(e.message().find("bubblewrap (bwrap) is not installed at /nonexistent/bwrap"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("--unsafe-no-sandbox"), std::string::npos) << e.message();
  }
}

TEST(SandboxRefusal, BubblewrapThatCannotIsolateIsRefused) {
  SandboxOptions o;
  o.bwrap = "/bin/false";  // runs, isolates nothing: every mode's probe fails
  try {
    SandboxCodeRunner r(o);
    FAIL() << "a runner was built on /bin/false: " << r.describe();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::config);
    EXPECT_NE(e.message().find("cannot isolate"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("user namespaces"), std::string::npos) << e.message();
  }
}

TEST(SandboxRefusal, UnsafeModeRunsAndSaysSo) {
  const std::string tmp = std::string(HB_BINARY_DIR) + "/sandbox_test_unsafe." + std::to_string(getpid());
  std::filesystem::create_directories(tmp);
  setenv("TMPDIR", tmp.c_str(), 1);
  SandboxOptions o;
  o.bwrap = "/nonexistent/bwrap";
  o.unsafe_no_sandbox = true;
  SandboxCodeRunner r(o);
  EXPECT_FALSE(r.isolated());
  EXPECT_NE(r.describe().find("NO isolation"), std::string::npos) << r.describe();
  EXPECT_EQ(run_with(r, "print(1)\n").status, Status::passed);
  EXPECT_EQ(run_with(r, "import os\nos.makedirs('a/b')\nos.chmod('a/b', 0)\nos.chmod('a', 0)\nassert 0\n").status, Status::failed);
  EXPECT_EQ(run_with(r, "import time\ntime.sleep(30)\n", 1.0).status, Status::timeout);
  EXPECT_TRUE(std::filesystem::is_empty(tmp)) << "unsafe mode left its run folder behind";
  unsetenv("TMPDIR");
  std::filesystem::remove_all(tmp);
}

// Root only: drop to uid/gid 65534 in a child and build a box there (bubblewrap in an unprivileged user
// namespace). Skips, saying why, when this kernel does not allow that.
TEST(SandboxUnprivileged, NobodyGetsABoxToo) {
  if (geteuid() != 0) GTEST_SKIP() << "already unprivileged: every other test here covers it";
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(p[0]);
    auto say = [&](const std::string& s, int code) {
      if (write(p[1], s.data(), s.size()) < 0) _exit(3);
      _exit(code);
    };
    if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0) say("cannot drop to 65534", 2);
    try {
      SandboxCodeRunner r(SandboxOptions{});
      if (r.isolation() != Isolation::bwrap_user) say(std::string("mode ") + isolation_name(r.isolation()), 1);
      auto res = r.run(
          "import os, socket\n"
          "assert os.getuid() != 0\n"
          "assert not os.path.exists('/work') and not os.path.exists('/home')\n"
          "try:\n    socket.socket()\n    raise SystemExit('socket allowed')\nexcept PermissionError:\n    pass\n"
          "open('/tmp/x', 'w').write('x')\n",
          10.0);
      if (!res.passed()) say(std::string(suites::run_status_name(res.status)) + ": " + res.reason + "\n" + res.stderr_tail, 1);
      say("", 0);
    } catch (const Error& e) {
      say(e.message(), 77);
    }
  }
  close(p[1]);
  std::string msg;
  char buf[4096];
  ssize_t n;
  while ((n = read(p[0], buf, sizeof buf)) > 0) msg.append(buf, static_cast<size_t>(n));
  close(p[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) GTEST_SKIP() << "no unprivileged sandbox on this machine: " << msg;
  EXPECT_EQ(WEXITSTATUS(status), 0) << msg;
}

}  // namespace
}  // namespace hb::sandbox
