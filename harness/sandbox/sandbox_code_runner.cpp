#include "harness/sandbox/sandbox_code_runner.h"

#include <dirent.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include <boost/process/search_path.hpp>

#include "harness/base/error.h"
#include "harness/base/strings.h"
#include "harness/sandbox/seccomp_filter.h"

namespace hb::sandbox {
namespace {

// Root runs each box under a uid of its own: 2e9 + (pid mod 65536) * 256 + (run mod 256), distinct for
// concurrent hybench processes and for 256 runs in a row, needing no passwd entry. The process limit then
// counts only that box's processes.
constexpr long kFirstRunUid = 2000000000L;
constexpr long kRunsPerProcess = 256;
constexpr const char* kBoxProgram = "/tmp/hb_program.py";
constexpr const char* kBoxPath = "/usr/local/bin:/usr/bin:/bin";

std::string find_tool(const std::string& configured, const char* usual, const char* name) {
  if (!configured.empty()) return access(configured.c_str(), X_OK) == 0 ? configured : "";
  if (access(usual, X_OK) == 0) return usual;
  auto p = boost::process::search_path(name);
  return p.empty() ? "" : p.string();
}

// A memfd holding `data`, positioned at 0 (bubblewrap reads it to the end); one per run, since concurrent
// readers of one descriptor would share its file offset.
int memfd_with(const char* name, const std::string& data) {
  int fd = memfd_create(name, MFD_CLOEXEC);
  if (fd < 0) return -1;
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = write(fd, data.data() + off, data.size() - off);
    if (n <= 0) {
      close(fd);
      return -1;
    }
    off += static_cast<size_t>(n);
  }
  lseek(fd, 0, SEEK_SET);
  return fd;
}

// Live processes of a real uid (zombies excluded), for the process limit of modes without a uid per run.
int count_processes_of(uid_t uid) {
  DIR* d = opendir("/proc");
  if (!d) return 0;
  int n = 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::ifstream f(std::string("/proc/") + e->d_name + "/status");
    std::string line;
    bool zombie = false;
    while (std::getline(f, line)) {
      if (line.rfind("State:", 0) == 0) zombie = line.find('Z') != std::string::npos;
      if (line.rfind("Uid:", 0) == 0) {
        if (!zombie && std::strtoul(line.c_str() + 4, nullptr, 10) == uid) ++n;
        break;
      }
    }
  }
  closedir(d);
  return n;
}

std::string first_line(const std::string& s) {
  std::string t = s.substr(0, s.find('\n'));
  return t.size() > 300 ? t.substr(0, 300) + "..." : t;
}

std::string mib(size_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f MiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

const char* signal_reason(int sig) {
  switch (sig) {
    case SIGXCPU: return "CPU time limit (SIGXCPU)";
    case SIGXFSZ: return "file size limit (SIGXFSZ)";
    case SIGKILL: return "killed (SIGKILL)";
    case SIGSEGV: return "segmentation fault (SIGSEGV)";
    case SIGSYS: return "forbidden system call (SIGSYS)";
    case SIGABRT: return "aborted (SIGABRT)";
    default: return nullptr;
  }
}

// Removes an unsafe-mode run folder even when the program made parts of it unreadable; never follows links.
void remove_tree(const std::string& dir) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (!ec) return;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, std::filesystem::directory_options::skip_permission_denied, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
    if (it->is_directory(ec) && !it->is_symlink(ec)) chmod(it->path().c_str(), 0700);
  chmod(dir.c_str(), 0700);
  std::filesystem::remove_all(dir, ec);
}

}  // namespace

const char* isolation_name(Isolation isolation) {
  switch (isolation) {
    case Isolation::bwrap_run_uid: return "bubblewrap, a uid per run";
    case Isolation::bwrap_root: return "bubblewrap as root";
    case Isolation::bwrap_user: return "bubblewrap in an unprivileged user namespace";
    case Isolation::unsafe_none: return "UNSAFE: no sandbox";
  }
  return "?";
}

SandboxCodeRunner::SandboxCodeRunner(SandboxOptions options) : options_(std::move(options)) {
  if (options_.parallelism < 1) options_.parallelism = 1;
  python_ = find_tool(options_.python, "/usr/bin/python3", "python3");
  if (python_.empty())
    throw Error(ErrorCode::config, "sandbox: python3 not found; install python3 or pass its path (--sandbox-python)");
  if (options_.unsafe_no_sandbox) {
    isolation_ = Isolation::unsafe_none;
    return;
  }
  bwrap_ = find_tool(options_.bwrap, "/usr/bin/bwrap", "bwrap");
  std::vector<std::string> why;
  if (bwrap_.empty()) {
    why.push_back("bubblewrap (bwrap) is not installed" + (options_.bwrap.empty() ? "" : " at " + options_.bwrap) + ": apt-get install bubblewrap");
  } else {
    layout_ = probe_python_layout(python_);
    seccomp_bpf_ = build_seccomp_bpf();
    std::vector<Isolation> modes = geteuid() == 0 ? std::vector<Isolation>{Isolation::bwrap_run_uid, Isolation::bwrap_root}
                                                  : std::vector<Isolation>{Isolation::bwrap_user};
    for (Isolation m : modes) {
      std::string no = try_mode(m);
      if (no.empty()) {
        isolation_ = m;
        return;
      }
      why.push_back(std::string(isolation_name(m)) + ": " + no);
    }
  }
  std::string all;
  for (const auto& w : why) all += (all.empty() ? "" : "; ") + w;
  throw Error(ErrorCode::config,
              "sandbox: cannot isolate model-written programs (" + all +
                  "). The MBPP sandbox needs bubblewrap and either root or unprivileged user namespaces "
                  "(user.max_user_namespaces > 0; kernel.unprivileged_userns_clone=1 where that sysctl exists). "
                  "To run the programs without any isolation, pass --unsafe-no-sandbox");
}

std::string SandboxCodeRunner::try_mode(Isolation mode) {
  isolation_ = mode;
  suites::RunResult r = run_isolated("import sys\nsys.exit(0)\n", 30.0, 0);
  isolation_ = Isolation::unsafe_none;
  if (r.passed()) return "";
  std::string detail = first_line(r.stderr_tail);
  return r.reason + (detail.empty() ? "" : " (" + detail + ")");
}

std::string SandboxCodeRunner::describe() const {
  const SandboxLimits& l = options_.limits;
  char limits[256];
  std::snprintf(limits, sizeof limits, "wall %.1f s, cpu %.1f s, memory %s, %d processes, files %s, tmpfs %s",
                l.wall_s, l.cpu_s, mib(l.memory_bytes).c_str(), l.processes, mib(l.file_size_bytes).c_str(),
                mib(l.tmpfs_bytes).c_str());
  if (isolation_ == Isolation::unsafe_none)
    return python_ + " with NO isolation (--unsafe-no-sandbox): rlimits only (" + limits + ")";
  return python_ + " in " + isolation_name(isolation_) +
         " (mount, pid, ipc, uts, net, cgroup namespaces; read-only interpreter-only root; seccomp); " + limits +
         "; " + std::to_string(options_.parallelism) + " in parallel";
}

unsigned long SandboxCodeRunner::process_limit() const {
  // bubblewrap's monitor and the namespace's init count too.
  const unsigned long per_box = static_cast<unsigned long>(options_.limits.processes) + 2;
  if (isolation_ == Isolation::bwrap_run_uid) return per_box;
  // Shared uid: the limit counts all of its processes, so leave room for the ones already running.
  return static_cast<unsigned long>(count_processes_of(getuid())) + per_box * static_cast<unsigned long>(options_.parallelism);
}

BoxCommand SandboxCodeRunner::bwrap_command(Isolation mode, long run_id, int program_fd, int seccomp_fd) const {
  const SandboxLimits& l = options_.limits;
  BoxCommand c;
  c.fds = {program_fd, seccomp_fd};  // fd 3 and 4 in bwrap; the status pipe is fd 5
  c.status_pipe = true;
  c.env = {std::string("PATH=") + kBoxPath};
  std::vector<std::string>& a = c.argv;
  a = {bwrap_, "--unshare-all"};
  if (mode != Isolation::bwrap_root) a.push_back("--unshare-user");
  a.insert(a.end(), {"--die-with-parent", "--new-session", "--hostname", "hb-sandbox", "--json-status-fd", "5",
                     "--seccomp", "4"});
  auto layout = layout_.bwrap_args();
  a.insert(a.end(), layout.begin(), layout.end());
  a.insert(a.end(), {"--proc", "/proc", "--size", "65536", "--tmpfs", "/dev"});
  for (const char* dev : {"/dev/null", "/dev/zero", "/dev/random", "/dev/urandom"}) a.insert(a.end(), {"--dev-bind", dev, dev});
  a.insert(a.end(), {"--symlink", "../tmp", "/dev/shm", "--remount-ro", "/dev"});
  a.insert(a.end(), {"--size", std::to_string(l.tmpfs_bytes), "--perms", "1777", "--tmpfs", "/tmp", "--symlink", "../tmp",
                     "/var/tmp", "--perms", "0644", "--file", "3", kBoxProgram, "--remount-ro", "/", "--chdir", "/tmp",
                     "--clearenv", "--setenv", "PATH", kBoxPath, "--setenv", "HOME", "/tmp", "--setenv", "TMPDIR", "/tmp",
                     "--setenv", "LANG", "C.UTF-8", "--setenv", "PYTHONDONTWRITEBYTECODE", "1", "--",
                     layout_.python, "-I", "-B", kBoxProgram});
  if (mode == Isolation::bwrap_run_uid)
    c.uid = static_cast<int>(kFirstRunUid + (static_cast<long>(getpid()) % 65536) * kRunsPerProcess + run_id % kRunsPerProcess);
  c.cpu_s = static_cast<unsigned long>(l.cpu_s + 0.999);
  c.memory_bytes = l.memory_bytes;
  c.file_size_bytes = l.file_size_bytes;
  c.processes = process_limit();
  c.open_files = static_cast<unsigned long>(l.open_files);
  return c;
}

suites::RunResult SandboxCodeRunner::run(const std::string& program, double timeout_s) {
  long id;
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return running_ < options_.parallelism; });
    ++running_;
    id = ++runs_;
  }
  double limit = std::min(timeout_s, options_.limits.wall_s);
  suites::RunResult r;
  try {
    r = isolated() ? run_isolated(program, limit, id) : run_unsafe(program, limit, id);
  } catch (const std::exception& e) {
    r = {};
    r.status = suites::RunResult::Status::error;
    r.reason = std::string("sandbox failure: ") + e.what();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    --running_;
  }
  cv_.notify_one();
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

suites::RunResult SandboxCodeRunner::run_isolated(const std::string& program, double timeout_s, long run_id) {
  int program_fd = memfd_with("hb-program", program);
  int seccomp_fd = memfd_with("hb-seccomp", seccomp_bpf_);
  BoxExit exit;
  if (program_fd < 0 || seccomp_fd < 0) {
    exit.error = std::string("memfd_create failed: ") + std::strerror(errno);
  } else {
    exit = run_box(bwrap_command(isolation_, run_id, program_fd, seccomp_fd), timeout_s, options_.limits.output_bytes,
                   options_.limits.output_tail_bytes);
  }
  if (program_fd >= 0) close(program_fd);
  if (seccomp_fd >= 0) close(seccomp_fd);
  return interpret(exit, timeout_s);
}

suites::RunResult SandboxCodeRunner::run_unsafe(const std::string& program, double timeout_s, long run_id) {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/hb-unsafe-" + std::to_string(run_id) + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) {
    suites::RunResult r;
    r.reason = "cannot create a folder under " + tmpl + "; set TMPDIR to a writable folder";
    return r;
  }
  const std::string dir = buf.data();
  {
    std::ofstream f(dir + "/prog.py", std::ios::binary);
    f << program;
  }
  const SandboxLimits& l = options_.limits;
  BoxCommand c;
  c.argv = {python_, "-I", "-B", "prog.py"};
  c.env = {std::string("PATH=") + kBoxPath, "HOME=" + dir, "TMPDIR=" + dir, "LANG=C.UTF-8", "PYTHONDONTWRITEBYTECODE=1"};
  c.cwd = dir;
  c.reap_subtree = false;
  c.cpu_s = static_cast<unsigned long>(l.cpu_s + 0.999);
  c.memory_bytes = l.memory_bytes;
  c.file_size_bytes = l.file_size_bytes;
  c.processes = process_limit();
  c.open_files = static_cast<unsigned long>(l.open_files);
  BoxExit exit = run_box(c, timeout_s, l.output_bytes, l.output_tail_bytes);
  remove_tree(dir);
  return interpret(exit, timeout_s);
}

suites::RunResult SandboxCodeRunner::interpret(const BoxExit& e, double timeout_s) const {
  using Status = suites::RunResult::Status;
  suites::RunResult r;
  if (!e.started) {
    r.status = Status::error;
    r.reason = "sandbox failure: " + e.error;
    return r;
  }
  r.wall_s = e.wall_s;
  r.stdout_tail = sanitize_utf8(e.stdout_tail);
  r.stderr_tail = sanitize_utf8(e.stderr_tail);
  r.output_truncated = e.truncated;
  char buf[160];
  if (e.timed_out) {
    r.status = Status::timeout;
    std::snprintf(buf, sizeof buf, "killed after the %.1f s wall-clock limit, with every process it started", timeout_s);
    r.reason = buf;
    return r;
  }
  if (e.output_limit) {
    r.status = Status::crashed;
    r.reason = "output limit: more than " + std::to_string(options_.limits.output_bytes) +
               " bytes on stdout/stderr; killed with every process it started";
    return r;
  }
  const bool boxed = isolation_ != Isolation::unsafe_none;
  if (boxed && e.status_text.find("\"child-pid\"") == std::string::npos) {
    r.status = Status::error;
    std::string said = first_line(r.stderr_tail);
    r.reason = "sandbox setup failed: " + (said.empty() ? bwrap_ + " exited with status " +
                                                              std::to_string(WIFEXITED(e.wait_status) ? WEXITSTATUS(e.wait_status) : -1) +
                                                              " and no message"
                                                        : said);
    return r;
  }
  int sig = 0, code = -1;
  if (WIFSIGNALED(e.wait_status)) {
    sig = WTERMSIG(e.wait_status);
  } else if (WIFEXITED(e.wait_status)) {
    code = WEXITSTATUS(e.wait_status);
    // bubblewrap reports a program killed by signal N as exit status 128 + N.
    if (boxed && code > 128 && code < 128 + 32) sig = code - 128;
  }
  if (code == 0) {
    r.status = Status::passed;
    r.exit_code = 0;
    return r;
  }
  if (sig != 0) {
    r.status = Status::crashed;
    r.signal = sig;
    r.exit_code = code;
    const char* known = signal_reason(sig);
    r.reason = known ? known : "killed by signal " + std::to_string(sig);
    if (sig == SIGKILL && r.stderr_tail.empty()) r.reason += ": a limit was hit (memory, processes) or the box was killed";
    return r;
  }
  r.status = Status::failed;
  r.exit_code = code;
  bool oom = r.stderr_tail.find("MemoryError") != std::string::npos;
  r.reason = oom ? "memory limit (MemoryError)" : "exit status " + std::to_string(code);
  return r;
}

}  // namespace hb::sandbox
