// The hostile corpus (tests/sandbox/hostile/): programs written the way an attacker would, each run through
// the real sandbox. Every test asserts the ABSENCE of effects, not only the exit status: the probe files
// outside the box are unchanged, the Unix-socket and TCP listeners outside got no connection, no process of
// the program is left (a marker in every process's command line), nothing is left in TMPDIR or under the
// host's /tmp, /var/tmp, /dev/shm, no secret (the run's input, /etc/shadow, the parent's environment) shows
// up in the output or the stored reason, the parent returns within the limit, and the reason says what
// happened. Runs as root in CI; as an unprivileged user (ctest hostile_corpus_unprivileged) it skips when
// user namespaces are not allowed. HB_HOSTILE_UNSAFE=1 runs it without the sandbox, to see the checks fail.
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <set>

#include <gtest/gtest.h>

#include "harness/base/error.h"
#include "harness/sandbox/sandbox_code_runner.h"
#include "tests/sandbox/hostile_manifest.h"

namespace hb::sandbox {
namespace {

using testing::HostileCase;
const std::string kCorpus = std::string(HB_SOURCE_DIR) + "/tests/sandbox/hostile";

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

std::set<std::string> list_dir(const std::string& path) {
  std::set<std::string> out;
  if (DIR* d = opendir(path.c_str())) {
    while (dirent* e = readdir(d))
      if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") out.insert(e->d_name);
    closedir(d);
  }
  return out;
}

std::string make_temp_dir(const char* prefix) {
  std::string t = std::string("/tmp/") + prefix + "XXXXXX";
  std::vector<char> buf(t.begin(), t.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) return "";
  return buf.data();
}

// A listener outside the box; after the run, accept() must find nothing.
int listen_unix(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 16) != 0) return -1;
  chmod(path.c_str(), 0777);  // any uid could connect, were it reachable
  return fd;
}

int listen_tcp(int& port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 16) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    return -1;
  port = ntohs(a.sin_port);
  return fd;
}

bool got_connection(int listener) {
  int c = accept(listener, nullptr, nullptr);
  if (c >= 0) close(c);
  return c >= 0;
}

// Live processes (not this one) whose command line holds the marker.
std::vector<std::string> processes_with(const std::string& marker) {
  std::vector<std::string> found;
  const std::string self = std::to_string(getpid());
  for (const auto& pid : list_dir("/proc")) {
    if (pid[0] < '0' || pid[0] > '9' || pid == self) continue;
    std::string cmd = read_file("/proc/" + pid + "/cmdline");
    if (cmd.find(marker) != std::string::npos) found.push_back(pid + ": " + cmd);
  }
  return found;
}

// Every line of /etc/shadow long enough to be telling, when this user can read it.
std::vector<std::string> shadow_lines() {
  std::vector<std::string> lines;
  std::ifstream f("/etc/shadow");
  std::string line;
  while (std::getline(f, line))
    if (line.size() >= 12) lines.push_back(line);
  return lines;
}

std::string stored_reason(const suites::RunResult& r) {
  // What MBPP stores: status, runner reason, the last line of stderr.
  std::string err = r.stderr_tail;
  while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
  auto nl = err.find_last_of('\n');
  std::string last = nl == std::string::npos ? err : err.substr(nl + 1);
  return std::string(suites::run_status_name(r.status)) + ": " + r.reason + " (" + last + ")";
}

class HostileCorpus : public ::testing::TestWithParam<HostileCase> {
 protected:
  static void SetUpTestSuite() {
    tmpdir_ = new std::string(make_temp_dir("hb-hostile-tmpdir-"));
    setenv("TMPDIR", tmpdir_->c_str(), 1);  // a runner that made folders would leave them here
    std::random_device rd;
    parent_secret_ = new std::string("HBPARENTSECRET" + std::to_string(rd()));
    setenv("HB_HOSTILE_PARENT_SECRET", parent_secret_->c_str(), 1);
    try {
      // HB_HOSTILE_UNSAFE=1 runs the corpus without isolation: a check of the checks (most cases must fail).
      SandboxOptions o;
      const char* unsafe = std::getenv("HB_HOSTILE_UNSAFE");
      o.unsafe_no_sandbox = unsafe && std::string(unsafe) == "1";
      runner_ = new SandboxCodeRunner(o);
    } catch (const Error& e) {
      setup_error_ = new std::string(e.message());
    }
  }
  static void TearDownTestSuite() {
    delete runner_;
    runner_ = nullptr;
    std::error_code ec;
    std::filesystem::remove_all(*tmpdir_, ec);
  }

  void SetUp() override {
    if (!runner_) {
      if (geteuid() == 0) FAIL() << "the sandbox cannot be built as root: " << *setup_error_;
      GTEST_SKIP() << "no isolation for an unprivileged user here (user namespaces not allowed?): " << *setup_error_;
    }
    std::random_device rd;
    marker_ = "hbmark" + std::to_string(getpid()) + "x" + std::to_string(rd() % 1000000);
    probe_ = make_temp_dir("hb-hostile-probe-");
    ASSERT_FALSE(probe_.empty());
    chmod(probe_.c_str(), 0755);
    secret_ = "{\"secret\": \"RUNINPUTSECRET" + marker_ + "\"}\n";
    std::ofstream(probe_ + "/secret.jsonl") << secret_;
    chmod((probe_ + "/secret.jsonl").c_str(), 0644);
    std::ofstream(probe_ + "/victim.txt") << "untouched\n";
    chmod((probe_ + "/victim.txt").c_str(), 0666);
    mkdir((probe_ + "/open").c_str(), 0777);
    chmod((probe_ + "/open").c_str(), 0777);
    unix_fd_ = listen_unix(probe_ + "/sock");
    tcp_fd_ = listen_tcp(port_);
    ASSERT_GE(unix_fd_, 0);
    ASSERT_GE(tcp_fd_, 0);
    probe_entries_ = list_dir(probe_);
  }

  void TearDown() override {
    if (unix_fd_ >= 0) close(unix_fd_);
    if (tcp_fd_ >= 0) close(tcp_fd_);
    std::error_code ec;
    if (!probe_.empty()) std::filesystem::remove_all(probe_, ec);
  }

  static SandboxCodeRunner* runner_;
  static std::string* setup_error_;
  static std::string* tmpdir_;
  static std::string* parent_secret_;
  std::string marker_, probe_, secret_;
  std::set<std::string> probe_entries_;
  int unix_fd_ = -1, tcp_fd_ = -1, port_ = 0;
};

SandboxCodeRunner* HostileCorpus::runner_ = nullptr;
std::string* HostileCorpus::setup_error_ = nullptr;
std::string* HostileCorpus::tmpdir_ = nullptr;
std::string* HostileCorpus::parent_secret_ = nullptr;

// Without a sandbox (HB_HOSTILE_UNSAFE=1) these would act on the host itself: signal every process
// (kill(-1) as root), kill or trace this test, write into PID 1's descriptors, change the hostname or
// /proc/sys, mount over /tmp, call reboot/kexec/module system calls. They only run boxed.
bool harms_the_host_unboxed(const std::string& file) {
  static const std::set<std::string> kHarmful = {
      "kill_everything.py", "kill_parent.py", "ptrace_parent.py", "process_vm_readv.py", "write_into_init_fds.py",
      "proc_sys_write.py", "sethostname.py", "mount_tmpfs.py", "kernel_attack_surface.py", "setns_into_host.py",
      "fork_bomb.py", "thread_bomb.py"};
  return kHarmful.count(file) > 0;
}

TEST_P(HostileCorpus, LeavesNoTrace) {
  const HostileCase& c = GetParam();
  if (!runner_->isolated() && harms_the_host_unboxed(c.file))
    GTEST_SKIP() << c.file << " would act on the host itself without a sandbox";
  std::string body = testing::fill_placeholders(
      c.program, {{"PROBE", probe_}, {"SECRET", probe_ + "/secret.jsonl"}, {"SOCK", probe_ + "/sock"},
                  {"PORT", std::to_string(port_)}, {"MARKER", marker_}, {"PARENT_PID", std::to_string(getpid())}});
  // Every process of the program carries the marker in its command line (re-exec once at start), so a
  // survivor is found in /proc whatever it did.
  std::string prelude = "import os as _o, sys as _s\nif '" + marker_ +
                        "' not in _s.argv: _o.execv(_s.executable, [_s.executable, '-I', '-B', _s.argv[0], '" + marker_ +
                        "'])\n";
  auto t0 = std::chrono::steady_clock::now();
  suites::RunResult r = runner_->run(prelude + body, c.timeout_s);
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::string reason = stored_reason(r);
  SCOPED_TRACE(c.file + " -> " + reason + "\nstdout: " + r.stdout_tail.substr(0, 500) + "\nstderr: " + r.stderr_tail.substr(0, 2000));

  // The parent never hangs.
  EXPECT_LE(wall, c.max_wall_s) << "the run took " << wall << " s";
  // The outcome and the stored reason.
  bool status_ok = false;
  for (const auto& s : c.statuses) status_ok = status_ok || s == suites::run_status_name(r.status);
  EXPECT_TRUE(status_ok) << "status " << suites::run_status_name(r.status);
  if (!r.passed()) {
    EXPECT_FALSE(r.reason.empty());
  }
  if (!c.reason_contains.empty()) {
    EXPECT_NE(reason.find(c.reason_contains), std::string::npos) << "want: " << c.reason_contains;
  }
  EXPECT_EQ(r.stdout_tail.find("ESCAPED"), std::string::npos);
  EXPECT_EQ(r.stderr_tail.find("ESCAPED"), std::string::npos);

  // Nothing outside changed.
  EXPECT_EQ(read_file(probe_ + "/victim.txt"), "untouched\n");
  EXPECT_EQ(read_file(probe_ + "/secret.jsonl"), secret_);
  EXPECT_EQ(list_dir(probe_), probe_entries_);
  EXPECT_TRUE(list_dir(probe_ + "/open").empty());
  EXPECT_FALSE(got_connection(unix_fd_)) << "the Unix-socket listener outside the box got a connection";
  EXPECT_FALSE(got_connection(tcp_fd_)) << "the TCP listener on 127.0.0.1 got a connection";
  // Nothing outlives the run.
  auto survivors = processes_with(marker_);
  EXPECT_TRUE(survivors.empty()) << survivors.size() << " processes left, e.g. " << (survivors.empty() ? "" : survivors[0]);
  // No folder or file left behind.
  EXPECT_TRUE(list_dir(*tmpdir_).empty()) << "left in TMPDIR: " << *list_dir(*tmpdir_).begin();
  for (const char* dir : {"/tmp", "/var/tmp", "/dev/shm"})
    for (const auto& e : list_dir(dir)) EXPECT_EQ(e.find(marker_), std::string::npos) << dir << "/" << e << " was left behind";
  // No secret in what is kept.
  for (const std::string* text : std::vector<const std::string*>{&r.stdout_tail, &r.stderr_tail, &reason}) {
    EXPECT_EQ(text->find("RUNINPUTSECRET"), std::string::npos) << "the run's input leaked";
    EXPECT_EQ(text->find(*parent_secret_), std::string::npos) << "the parent's environment leaked";
    for (const auto& line : shadow_lines()) EXPECT_EQ(text->find(line), std::string::npos) << "/etc/shadow leaked";
  }
}

std::string case_name(const ::testing::TestParamInfo<HostileCase>& info) {
  std::string n = info.param.file.substr(0, info.param.file.rfind('.'));
  for (char& ch : n)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
}

INSTANTIATE_TEST_SUITE_P(Corpus, HostileCorpus, ::testing::ValuesIn(testing::load_hostile_corpus(kCorpus)), case_name);

TEST(HostileCorpusManifest, HasAtLeastFortyPrograms) {
  EXPECT_GE(testing::load_hostile_corpus(kCorpus).size(), 40u);
}

}  // namespace
}  // namespace hb::sandbox
