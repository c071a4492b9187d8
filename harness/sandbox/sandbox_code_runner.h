#pragma once
// A CodeRunner that runs each program with python3 in a fresh temporary directory, through Boost.Process:
//   - its own process group; on timeout or exit the whole group is killed with SIGKILL and reaped;
//   - setrlimit in the child: CPU seconds, address space, file size (which also caps stdout/stderr, written
//     to files), open files, process count, no core dumps;
//   - no network: the child enters a new network namespace with unshare(2) before exec (as root directly;
//     otherwise inside a new user namespace). When neither is allowed the run goes on with the network
//     reachable, and describe() says so (best effort, documented in docs/SUITES.md);
//   - as root, each run gets its own unprivileged uid (2e9 + (pid mod 65536) * 256 + run mod 256), so the process limit
//     is per program, files outside the run directory cannot be written, and every process of that uid is
//     killed after the run (even one that escaped the process group with setsid);
//   - at most `parallelism` programs at once; run() blocks for a free slot.
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "suites/common/code_runner.h"

namespace hb::sandbox {

struct SandboxLimits {
  double cpu_s_extra = 1.0;                    // RLIMIT_CPU = timeout + this
  size_t address_space_bytes = 2ull << 30;     // RLIMIT_AS
  size_t file_size_bytes = 16ull << 20;        // RLIMIT_FSIZE: any file, stdout and stderr included
  int max_processes = 32;                      // RLIMIT_NPROC (per slot uid when root)
  int max_open_files = 256;                    // RLIMIT_NOFILE
  size_t output_tail_bytes = 8 << 10;          // how much of stdout/stderr is kept in the result
};

struct SandboxOptions {
  std::string python;          // "" = /usr/bin/python3 if present, else python3 on PATH
  int parallelism = 2;
  SandboxLimits limits;
  bool require_network_isolation = false;  // throw from the constructor when no namespace can be made
};

class SandboxCodeRunner : public suites::CodeRunner {
 public:
  explicit SandboxCodeRunner(SandboxOptions options = {});
  ~SandboxCodeRunner() override;
  SandboxCodeRunner(const SandboxCodeRunner&) = delete;
  SandboxCodeRunner& operator=(const SandboxCodeRunner&) = delete;

  suites::RunResult run(const std::string& program, double timeout_s) override;
  std::vector<suites::RunResult> run_all(const std::vector<std::string>& programs, double timeout_s) override;
  std::string describe() const override;

  bool network_isolated() const { return net_isolation_ != NetIsolation::none; }

 private:
  enum class NetIsolation { none, netns, userns_netns };
  int acquire_slot();
  void release_slot(int slot);
  suites::RunResult run_in_slot(const std::string& program, double timeout_s, int slot);
  NetIsolation probe_isolation() const;

  SandboxOptions options_;
  std::string python_;
  std::string base_dir_;
  bool as_root_ = false;
  NetIsolation net_isolation_ = NetIsolation::none;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<bool> busy_;
  unsigned long long counter_ = 0;
};

}  // namespace hb::sandbox
