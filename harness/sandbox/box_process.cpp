#include "harness/sandbox/box_process.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>

namespace hb::sandbox {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kStatusTextCap = 4096;

struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) close(fd);
    fd = -1;
  }
};

bool make_pipe(Fd& r, Fd& w) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return false;
  r.fd = p[0];
  w.fd = p[1];
  fcntl(r.fd, F_SETFL, O_NONBLOCK);
  return true;
}

int open_pidfd(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

void set_limit(int resource, unsigned long value, unsigned long hard_extra = 0) {
  if (value == 0) return;
  struct rlimit r;
  r.rlim_cur = static_cast<rlim_t>(value);
  r.rlim_max = static_cast<rlim_t>(value + hard_extra);
  setrlimit(resource, &r);
}

void write_all(int fd, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t k = write(fd, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return;
    p += k;
    n -= static_cast<size_t>(k);
  }
}

// Closes every descriptor from `first` on (close_range, or one by one on kernels before 5.9).
void close_from(int first) {
  if (syscall(SYS_close_range, static_cast<unsigned>(first), ~0U, 0U) == 0) return;
  struct rlimit r;
  int top = getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < 65536 ? static_cast<int>(r.rlim_cur) : 65536;
  for (int fd = first; fd < top; ++fd) close(fd);
}

void child_fail(const char* what) {
  // Only async-signal-safe calls here: we are a fork of a multi-threaded process.
  const char* prefix = "sandbox: ";
  write_all(2, prefix, strlen(prefix));
  write_all(2, what, strlen(what));
  const char* err = strerror(errno);
  write_all(2, ": ", 2);
  write_all(2, err, strlen(err));
  write_all(2, "\n", 1);
  _exit(127);
}

// The command, after the second fork: fds in place, limits, uid, exec. Never returns.
[[noreturn]] void exec_command(const BoxCommand& c, char* const* argv, char* const* envp, const int* sources,
                               int nsources) {
  setpgid(0, 0);
  // Move every source above the targets first, so that placing one never overwrites another.
  // The copies are close-on-exec; dup2 clears that flag on the placed descriptors only.
  int high[64];
  for (int i = 0; i < nsources; ++i) {
    high[i] = fcntl(sources[i], F_DUPFD_CLOEXEC, 64);
    if (high[i] < 0) child_fail("cannot move a descriptor");
  }
  for (int i = 0; i < nsources; ++i)
    if (dup2(high[i], i) < 0) child_fail("cannot place a descriptor");
  close_from(nsources);
  set_limit(RLIMIT_CPU, c.cpu_s, 1);  // SIGXCPU at the soft limit says why; SIGKILL a second later
  set_limit(RLIMIT_AS, c.memory_bytes);
  set_limit(RLIMIT_FSIZE, c.file_size_bytes);
  set_limit(RLIMIT_NPROC, c.processes);
  set_limit(RLIMIT_NOFILE, c.open_files);
  struct rlimit none = {0, 0};
  setrlimit(RLIMIT_CORE, &none);
  if (c.uid >= 0) {
    if (setgroups(0, nullptr) != 0) child_fail("setgroups");
    if (setgid(static_cast<gid_t>(c.uid)) != 0) child_fail("setgid");
    if (setuid(static_cast<uid_t>(c.uid)) != 0) child_fail("setuid");
  }
  if (chdir(c.cwd.c_str()) != 0) child_fail("chdir");
  signal(SIGPIPE, SIG_DFL);
  execve(argv[0], argv, envp);
  child_fail("cannot execute the sandbox command");
  _exit(127);
}

// The keeper: starts the command, reports its pid, waits for it (and, when reaping the subtree, for every
// descendant re-parented here), reports its wait status, exits. Never returns.
[[noreturn]] void keeper(const BoxCommand& c, char* const* argv, char* const* envp, const int* sources,
                         int nsources, int report_w, pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);
  if (c.reap_subtree) prctl(PR_SET_CHILD_SUBREAPER, 1);
  pid_t pid = _Fork();
  if (pid < 0) child_fail("fork");
  if (pid == 0) exec_command(c, argv, envp, sources, nsources);
  // Close everything but the report pipe: the keeper must hold no output pipe open, neither this run's nor
  // one of a run that another thread started at the same moment.
  if (report_w != 3) {
    if (dup2(report_w, 3) < 0) _exit(127);
    report_w = 3;
  }
  for (int fd = 0; fd < 3; ++fd) close(fd);
  close_from(4);
  write_all(report_w, &pid, sizeof pid);
  int status = 0, command_status = 0;
  while (true) {
    pid_t w = waitpid(c.reap_subtree ? -1 : pid, &status, 0);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) break;
    if (w == pid) {
      command_status = status;
      if (!c.reap_subtree) {
        kill(-pid, SIGKILL);
        break;
      }
    }
  }
  write_all(report_w, &command_status, sizeof command_status);
  _exit(0);
}

// Appends data to a tail of at most cap bytes.
void keep_tail(std::string& tail, const char* data, size_t n, size_t cap, bool& truncated) {
  if (n >= cap) {
    truncated = truncated || n > cap || !tail.empty();
    tail.assign(data + (n - cap), cap);
    return;
  }
  tail.append(data, n);
  if (tail.size() > cap) {
    truncated = true;
    tail.erase(0, tail.size() - cap);
  }
}

pid_t parse_ns_init_pid(const std::string& status_text) {
  auto at = status_text.find("\"child-pid\"");
  if (at == std::string::npos) return -1;
  at = status_text.find(':', at);
  if (at == std::string::npos) return -1;
  long v = std::strtol(status_text.c_str() + at + 1, nullptr, 10);
  return v > 1 ? static_cast<pid_t>(v) : -1;
}

}  // namespace

BoxExit run_box(const BoxCommand& c, double timeout_s, size_t output_bytes, size_t tail_bytes) {
  BoxExit e;
  Fd out_r, out_w, err_r, err_w, status_r, status_w, report_r, report_w;
  Fd null_in(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (null_in.fd < 0 || !make_pipe(out_r, out_w) || !make_pipe(err_r, err_w) || !make_pipe(report_r, report_w) ||
      (c.status_pipe && !make_pipe(status_r, status_w))) {
    e.error = std::string("cannot create pipes: ") + strerror(errno);
    return e;
  }
  // Everything the children need is prepared here: after fork only async-signal-safe calls are allowed.
  std::vector<char*> argv, envp;
  for (const auto& a : c.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& v : c.env) envp.push_back(const_cast<char*>(v.c_str()));
  envp.push_back(nullptr);
  std::vector<int> sources = {null_in.fd, out_w.fd, err_w.fd};
  sources.insert(sources.end(), c.fds.begin(), c.fds.end());
  if (c.status_pipe) sources.push_back(status_w.fd);
  if (sources.size() > 60) {
    e.error = "too many descriptors for the sandbox command";
    return e;
  }
  const pid_t parent = getpid();
  const auto t0 = Clock::now();
  pid_t keeper_pid = fork();
  if (keeper_pid < 0) {
    e.error = std::string("fork failed: ") + strerror(errno);
    return e;
  }
  if (keeper_pid == 0)
    keeper(c, argv.data(), envp.data(), sources.data(), static_cast<int>(sources.size()), report_w.fd, parent);
  e.started = true;
  out_w.reset();
  err_w.reset();
  status_w.reset();
  report_w.reset();
  Fd keeper_fd(open_pidfd(keeper_pid));

  std::string report;
  pid_t command_pid = -1, ns_init = -1;
  bool keeper_done = false, killed = false;
  const auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
  auto kill_box = [&] {  // repeated until the keeper is gone: pids may arrive after the first call
    killed = true;
    if (ns_init > 0) kill(ns_init, SIGKILL);  // the namespace's init: the kernel kills everything inside
    if (command_pid > 0) kill(-command_pid, SIGKILL);
  };
  char buf[65536];
  auto drain = [&](Fd& fd, std::string* tail) {
    while (fd.fd >= 0) {
      ssize_t n = read(fd.fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return;  // EAGAIN: nothing more now
      if (n == 0) {
        fd.reset();
        return;
      }
      if (tail == nullptr) {  // the status or report pipe: small, capped
        std::string& dst = (&fd == &report_r) ? report : e.status_text;
        if (dst.size() < kStatusTextCap) dst.append(buf, std::min(static_cast<size_t>(n), kStatusTextCap - dst.size()));
        continue;
      }
      e.output_bytes_read += static_cast<size_t>(n);
      keep_tail(*tail, buf, static_cast<size_t>(n), tail_bytes, e.truncated);
      if (e.output_bytes_read > output_bytes && !killed) {
        e.output_limit = true;
        kill_box();
      }
    }
  };
  Clock::time_point drain_until{};
  while (true) {
    if (command_pid < 0 && report.size() >= sizeof(pid_t)) std::memcpy(&command_pid, report.data(), sizeof(pid_t));
    if (ns_init < 0 && c.status_pipe) ns_init = parse_ns_init_pid(e.status_text);
    auto now = Clock::now();
    if (!keeper_done && now >= deadline && !killed) e.timed_out = true;
    if (!keeper_done && (killed || e.timed_out)) kill_box();
    if (keeper_done && ((out_r.fd < 0 && err_r.fd < 0) || now >= drain_until)) break;
    std::vector<pollfd> p;
    for (Fd* f : {&out_r, &err_r, &status_r, &report_r})
      if (f->fd >= 0) p.push_back({f->fd, POLLIN, 0});
    if (!keeper_done && keeper_fd.fd >= 0) p.push_back({keeper_fd.fd, POLLIN, 0});
    auto until = keeper_done ? drain_until : (killed ? now + std::chrono::milliseconds(50) : deadline);
    long wait_ms = std::max<long>(0, std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count() + 1);
    if (keeper_fd.fd < 0 && !keeper_done) wait_ms = std::min<long>(wait_ms, 5);  // no pidfd: poll waitpid
    int rc = poll(p.data(), p.size(), static_cast<int>(wait_ms));
    if (rc < 0 && errno != EINTR) break;
    drain(out_r, &e.stdout_tail);
    drain(err_r, &e.stderr_tail);
    drain(status_r, nullptr);
    drain(report_r, nullptr);
    if (!keeper_done) {
      int st = 0;
      pid_t w = waitpid(keeper_pid, &st, WNOHANG);
      // ECHILD: something else in this process reaped it (a waitpid(-1) elsewhere); the report pipe still
      // carries the status.
      if (w == keeper_pid || (w < 0 && errno == ECHILD)) {
        keeper_done = true;
        drain(report_r, nullptr);
        // Every process of the box is dead; only an unsafe-mode daemon could still hold the pipes open.
        drain_until = Clock::now() + std::chrono::milliseconds(c.reap_subtree ? 1000 : 100);
      } else if (killed && Clock::now() > deadline + std::chrono::seconds(5)) {
        kill(keeper_pid, SIGKILL);  // a box that does not die: give up on reaping, never hang
      }
    }
  }
  if (!keeper_done) {  // poll failed: never leave the box or the keeper behind
    kill_box();
    kill(keeper_pid, SIGKILL);
    waitpid(keeper_pid, nullptr, 0);
  }
  e.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
  if (report.size() >= sizeof(pid_t) + sizeof(int)) {
    std::memcpy(&e.wait_status, report.data() + sizeof(pid_t), sizeof(int));
  } else {
    e.started = false;
    e.error = "the sandbox keeper process died before reporting the exit status";
  }
  return e;
}

}  // namespace hb::sandbox
