#pragma once
// The CodeRunner for model-written programs (MBPP). Each program runs in its own bubblewrap box
// (docs/SANDBOX.md): fresh mount, PID, IPC, UTS, network, cgroup and (unless root without user
// namespaces) user namespaces; a read-only root holding only the interpreter (box_layout.h); a private
// size-capped tmpfs as /tmp, working directory, /var/tmp and /dev/shm; /dev with null, zero, random, urandom;
// its own /proc; a seccomp filter (seccomp_filter.h); rlimits. The program text goes in through a memfd,
// its output comes back through pipes (box_process.h). Killing the namespace's init kills every process of
// the program.
//
// How it gets there, tried in order when the box is built (a real python3 run proves each):
//   root:   bwrap under a uid of its own per run (needs user namespaces for that uid), else bwrap as root
//           (the program keeps uid 0 in the box but no capabilities);
//   a user: bwrap in an unprivileged user namespace.
// When none works the constructor throws Error{config} naming what is missing, unless
// options.unsafe_no_sandbox is set (rlimits and a temporary folder only; describe() says UNSAFE).
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "harness/sandbox/box_layout.h"
#include "harness/sandbox/box_process.h"
#include "harness/sandbox/sandbox_options.h"
#include "suites/common/code_runner.h"

namespace hb::sandbox {

enum class Isolation { bwrap_run_uid, bwrap_root, bwrap_user, unsafe_none };
const char* isolation_name(Isolation isolation);

class SandboxCodeRunner : public suites::CodeRunner {
 public:
  explicit SandboxCodeRunner(SandboxOptions options = {});
  SandboxCodeRunner(const SandboxCodeRunner&) = delete;
  SandboxCodeRunner& operator=(const SandboxCodeRunner&) = delete;

  suites::RunResult run(const std::string& program, double timeout_s) override;
  std::vector<suites::RunResult> run_all(const std::vector<std::string>& programs, double timeout_s) override;
  std::string describe() const override;

  Isolation isolation() const { return isolation_; }
  bool isolated() const { return isolation_ != Isolation::unsafe_none; }
  const SandboxOptions& options() const { return options_; }

 private:
  BoxCommand bwrap_command(Isolation mode, long run_id, int program_fd, int seccomp_fd) const;
  suites::RunResult run_isolated(const std::string& program, double timeout_s, long run_id);
  suites::RunResult run_unsafe(const std::string& program, double timeout_s, long run_id);
  suites::RunResult interpret(const BoxExit& exit, double timeout_s) const;
  std::string try_mode(Isolation mode);  // "" when a trivial program runs in this mode, else why not
  unsigned long process_limit() const;

  SandboxOptions options_;
  std::string python_;   // as configured / found
  std::string bwrap_;
  BoxLayout layout_;
  std::string seccomp_bpf_;
  Isolation isolation_ = Isolation::unsafe_none;
  std::mutex mu_;
  std::condition_variable cv_;
  int running_ = 0;
  long runs_ = 0;
};

}  // namespace hb::sandbox
