#include "harness/sandbox/sandbox_code_runner.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>

#include <boost/process.hpp>
#include <boost/process/extend.hpp>

#include "harness/base/error.h"
#include "harness/base/strings.h"

namespace hb::sandbox {
namespace {

namespace bp = boost::process;
constexpr int kSetupFailedExit = 125;
// Root mode runs each program under a uid of its own: 2e9 + (pid mod 65536) * 256 + (run mod 256). Distinct
// for concurrent hybench processes (different pids) and for up to 256 runs in a row of one process, so that
// zombies of an earlier run (counted against RLIMIT_NPROC until init reaps them) never limit a later one and
// killing "every process of the uid" never touches another run. No passwd entry is needed.
constexpr long kFirstRunUid = 2000000000L;
constexpr long kRunsPerProcess = 256;

// Runs in the child between fork and exec: only async-signal-safe system calls.
struct ChildSetup : bp::extend::handler {
  int isolation = 0;  // 0 none, 1 netns, 2 userns+netns
  int uid = -1;       // switch to this uid/gid (root mode)
  rlim_t cpu_s = 0, as_bytes = 0, fsize_bytes = 0, nproc = 0, nofile = 0;

  template <class Executor>
  void on_exec_setup(Executor&) const {
    setpgid(0, 0);
    if (isolation == 1 && unshare(CLONE_NEWNET) != 0) _exit(kSetupFailedExit);
    if (isolation == 2 && unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0) _exit(kSetupFailedExit);
    struct rlimit r;
    r.rlim_cur = r.rlim_max = cpu_s;
    setrlimit(RLIMIT_CPU, &r);
    r.rlim_cur = r.rlim_max = as_bytes;
    setrlimit(RLIMIT_AS, &r);
    r.rlim_cur = r.rlim_max = fsize_bytes;
    setrlimit(RLIMIT_FSIZE, &r);
    r.rlim_cur = r.rlim_max = nofile;
    setrlimit(RLIMIT_NOFILE, &r);
    r.rlim_cur = r.rlim_max = 0;
    setrlimit(RLIMIT_CORE, &r);
    r.rlim_cur = r.rlim_max = nproc;
    setrlimit(RLIMIT_NPROC, &r);
    if (uid >= 0) {
      if (setgroups(0, nullptr) != 0 || setgid(uid) != 0 || setuid(uid) != 0) _exit(kSetupFailedExit);
    }
  }
};

// Real uid of a live (non-zombie) process from /proc/<pid>/status, or -1.
long proc_uid(const char* pid) {
  char path[300];
  std::snprintf(path, sizeof path, "/proc/%s/status", pid);
  FILE* f = std::fopen(path, "r");
  if (!f) return -1;
  char line[256];
  long uid = -1;
  while (std::fgets(line, sizeof line, f)) {
    // A zombie is already dead: its parent (or init) reaps it.
    if (std::strncmp(line, "State:", 6) == 0 && std::strchr(line, 'Z') != nullptr) break;
    if (std::strncmp(line, "Uid:", 4) == 0) {
      uid = std::strtol(line + 4, nullptr, 10);
      break;
    }
  }
  std::fclose(f);
  return uid;
}

// Calls fn(pid) for every process whose real uid is uid; returns how many there were.
template <class Fn>
int for_each_process_of(long uid, Fn fn) {
  DIR* d = opendir("/proc");
  if (!d) return 0;
  int n = 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    if (proc_uid(e->d_name) != uid) continue;
    ++n;
    fn(static_cast<pid_t>(std::atol(e->d_name)));
  }
  closedir(d);
  return n;
}

void kill_all_of_uid(long uid) {
  for (int round = 0; round < 200; ++round) {
    int n = for_each_process_of(uid, [](pid_t pid) { kill(pid, SIGKILL); });
    if (n == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

void kill_group(pid_t pgid) {
  for (int round = 0; round < 100; ++round) {
    if (killpg(pgid, SIGKILL) != 0) return;  // ESRCH: the group is gone
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// The last `cap` bytes of a file; sets truncated when the file was longer.
std::string file_tail(const std::string& path, size_t cap, bool& truncated) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return {};
  std::streamoff size = in.tellg();
  std::streamoff start = size > static_cast<std::streamoff>(cap) ? size - static_cast<std::streamoff>(cap) : 0;
  if (start > 0) truncated = true;
  in.seekg(start);
  std::string s(static_cast<size_t>(size - start), '\0');
  in.read(&s[0], static_cast<std::streamsize>(s.size()));
  return sanitize_utf8(s);
}

std::string find_python(const std::string& configured) {
  if (!configured.empty()) return configured;
  if (access("/usr/bin/python3", X_OK) == 0) return "/usr/bin/python3";
  auto p = bp::search_path("python3");
  if (p.empty()) return "";
  return p.string();
}

}  // namespace

SandboxCodeRunner::SandboxCodeRunner(SandboxOptions options) : options_(std::move(options)) {
  if (options_.parallelism < 1) options_.parallelism = 1;
  python_ = find_python(options_.python);
  if (python_.empty())
    throw Error(ErrorCode::config, "sandbox: python3 not found; install python3 or pass its path in SandboxOptions::python");
  as_root_ = geteuid() == 0;
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/hb-sandbox-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data()))
    throw Error(ErrorCode::io, "sandbox: cannot create a temporary directory under " + tmpl + "; set TMPDIR to a writable folder");
  base_dir_ = buf.data();
  chmod(base_dir_.c_str(), 0711);  // run directories are reachable, the base is not writable by programs
  net_isolation_ = probe_isolation();
  if (net_isolation_ == NetIsolation::none && options_.require_network_isolation)
    throw Error(ErrorCode::config, "sandbox: no network namespace can be created (unshare failed); run as root or enable unprivileged user namespaces");
  busy_.assign(static_cast<size_t>(options_.parallelism), false);
}

SandboxCodeRunner::~SandboxCodeRunner() {
  std::error_code ec;
  std::filesystem::remove_all(base_dir_, ec);
}

SandboxCodeRunner::NetIsolation SandboxCodeRunner::probe_isolation() const {
  for (int attempt : {as_root_ ? 1 : 2, 2}) {
    pid_t pid = fork();
    if (pid < 0) return NetIsolation::none;
    if (pid == 0) {
      int flags = attempt == 1 ? CLONE_NEWNET : (CLONE_NEWUSER | CLONE_NEWNET);
      _exit(unshare(flags) == 0 ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return attempt == 1 ? NetIsolation::netns : NetIsolation::userns_netns;
  }
  return NetIsolation::none;
}

std::string SandboxCodeRunner::describe() const {
  std::string net = net_isolation_ == NetIsolation::netns         ? "network namespace"
                    : net_isolation_ == NetIsolation::userns_netns ? "user+network namespace"
                                                                   : "NO network isolation (unshare not permitted)";
  return python_ + " in a fresh temp dir; " + net + "; rlimits cpu/as/fsize/nproc/nofile" +
         (as_root_ ? "; a uid per run" : "") + "; " + std::to_string(options_.parallelism) + " in parallel";
}

int SandboxCodeRunner::acquire_slot() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] {
    for (bool b : busy_)
      if (!b) return true;
    return false;
  });
  for (size_t i = 0; i < busy_.size(); ++i) {
    if (!busy_[i]) {
      busy_[i] = true;
      return static_cast<int>(i);
    }
  }
  return 0;  // unreachable
}

void SandboxCodeRunner::release_slot(int slot) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    busy_[static_cast<size_t>(slot)] = false;
  }
  cv_.notify_one();
}

suites::RunResult SandboxCodeRunner::run(const std::string& program, double timeout_s) {
  int slot = acquire_slot();
  suites::RunResult r;
  try {
    r = run_in_slot(program, timeout_s, slot);
  } catch (const std::exception& e) {
    r.status = suites::RunResult::Status::error;
    r.reason = std::string("sandbox failure: ") + e.what();
  }
  release_slot(slot);
  return r;
}

std::vector<suites::RunResult> SandboxCodeRunner::run_all(const std::vector<std::string>& programs, double timeout_s) {
  std::vector<suites::RunResult> out(programs.size());
  std::mutex next_mu;
  size_t next = 0;
  auto worker = [&] {
    while (true) {
      size_t i;
      {
        std::lock_guard<std::mutex> lock(next_mu);
        if (next >= programs.size()) return;
        i = next++;
      }
      out[i] = run(programs[i], timeout_s);
    }
  };
  std::vector<std::thread> threads;
  size_t n = std::min(programs.size(), static_cast<size_t>(options_.parallelism));
  for (size_t t = 0; t < n; ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  return out;
}

suites::RunResult SandboxCodeRunner::run_in_slot(const std::string& program, double timeout_s, int slot) {
  using Status = suites::RunResult::Status;
  suites::RunResult r;
  unsigned long long id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    id = ++counter_;
  }
  const long uid = as_root_ ? kFirstRunUid + (static_cast<long>(getpid()) % 65536) * kRunsPerProcess +
                                  static_cast<long>(id % kRunsPerProcess)
                            : -1;
  const std::string dir = base_dir_ + "/run-" + std::to_string(id);
  if (mkdir(dir.c_str(), 0700) != 0) {
    r.status = Status::error;
    r.reason = "cannot create " + dir;
    return r;
  }
  if (uid >= 0 && chown(dir.c_str(), static_cast<uid_t>(uid), static_cast<gid_t>(uid)) != 0) {
    r.status = Status::error;
    r.reason = "cannot hand " + dir + " to the sandbox uid";
    return r;
  }
  {
    std::ofstream f(dir + "/prog.py", std::ios::binary);
    f << program;
    if (!f) {
      r.status = Status::error;
      r.reason = "cannot write the program into " + dir;
      return r;
    }
  }
  const std::string out_path = dir + "/.stdout", err_path = dir + "/.stderr";

  ChildSetup setup;
  setup.isolation = net_isolation_ == NetIsolation::netns ? 1 : net_isolation_ == NetIsolation::userns_netns ? 2 : 0;
  setup.uid = static_cast<int>(uid);
  setup.cpu_s = static_cast<rlim_t>(timeout_s + options_.limits.cpu_s_extra + 0.999);
  setup.as_bytes = options_.limits.address_space_bytes;
  setup.fsize_bytes = options_.limits.file_size_bytes;
  setup.nofile = static_cast<rlim_t>(options_.limits.max_open_files);
  if (uid >= 0) {
    setup.nproc = static_cast<rlim_t>(options_.limits.max_processes);
  } else {
    // Without a uid of its own the limit counts every process of the user: leave room for them.
    int existing = for_each_process_of(static_cast<long>(getuid()), [](pid_t) {});
    setup.nproc = static_cast<rlim_t>(existing + options_.limits.max_processes * options_.parallelism);
  }

  bp::environment env;
  env["PATH"] = "/usr/local/bin:/usr/bin:/bin";
  env["HOME"] = dir;
  env["TMPDIR"] = dir;
  env["LANG"] = "C.UTF-8";
  env["PYTHONDONTWRITEBYTECODE"] = "1";

  auto t0 = std::chrono::steady_clock::now();
  std::error_code ec;
  bp::child child(python_, std::vector<std::string>{"-I", "-B", "prog.py"}, bp::start_dir = dir, env,
                  bp::std_in < "/dev/null", bp::std_out > out_path, bp::std_err > err_path, setup, ec);
  if (ec || !child.valid()) {
    r.status = Status::error;
    r.reason = "cannot start " + python_ + ": " + ec.message();
    std::error_code rm;
    std::filesystem::remove_all(dir, rm);
    return r;
  }
  const pid_t pid = child.id();
  setpgid(pid, pid);  // also from the parent, so that killpg works even before the child ran setpgid
  bool timed_out = false;
  auto sleep_ms = std::chrono::microseconds(200);
  while (true) {
    std::error_code wec;
    if (!child.running(wec)) break;
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (elapsed > timeout_s) {
      timed_out = true;
      kill_group(pid);
      break;
    }
    std::this_thread::sleep_for(sleep_ms);
    if (sleep_ms < std::chrono::milliseconds(10)) sleep_ms *= 2;
  }
  {
    std::error_code wec;
    child.wait(wec);
  }
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Whatever the program left behind (background children, a fork bomb) dies with it.
  kill_group(pid);
  if (uid >= 0) kill_all_of_uid(uid);

  int raw = child.native_exit_code();
  r.stdout_tail = file_tail(out_path, options_.limits.output_tail_bytes, r.output_truncated);
  r.stderr_tail = file_tail(err_path, options_.limits.output_tail_bytes, r.output_truncated);
  char buf[128];
  if (timed_out) {
    r.status = Status::timeout;
    std::snprintf(buf, sizeof buf, "killed after the %.1f s wall-clock limit", timeout_s);
    r.reason = buf;
  } else if (WIFEXITED(raw)) {
    r.exit_code = WEXITSTATUS(raw);
    if (r.exit_code == 0) {
      r.status = Status::passed;
    } else if (r.exit_code == kSetupFailedExit && r.stderr_tail.empty()) {
      r.status = Status::error;
      r.reason = "sandbox setup failed in the child (namespace, uid or limits)";
    } else {
      r.status = Status::failed;
      bool oom = r.stderr_tail.find("MemoryError") != std::string::npos;
      r.reason = oom ? "memory limit (MemoryError)" : "exit status " + std::to_string(r.exit_code);
    }
  } else if (WIFSIGNALED(raw)) {
    r.signal = WTERMSIG(raw);
    r.status = Status::crashed;
    switch (r.signal) {
      case SIGXFSZ: r.reason = "file size limit: output or a file went over the cap"; break;
      case SIGXCPU: r.reason = "CPU time limit"; break;
      case SIGKILL: r.reason = "killed (SIGKILL)"; break;
      case SIGSEGV: r.reason = "segmentation fault"; break;
      default: r.reason = "killed by signal " + std::to_string(r.signal); break;
    }
  } else {
    r.status = Status::error;
    r.reason = "unknown exit status";
  }
  std::error_code rm;
  std::filesystem::remove_all(dir, rm);
  return r;
}

}  // namespace hb::sandbox
