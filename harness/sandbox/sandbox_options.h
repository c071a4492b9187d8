#pragma once
// The MBPP sandbox's settings: every limit a named option with a default (the CLI exposes them as
// --sandbox-* options of eval, score and run; docs/SANDBOX.md describes each).
#include <cstddef>
#include <string>

namespace hb::sandbox {

struct SandboxLimits {
  double wall_s = 10.0;                   // wall clock per program; the suite's own limit applies when lower
  double cpu_s = 10.0;                    // RLIMIT_CPU, per process
  size_t memory_bytes = 1ull << 30;       // RLIMIT_AS, per process
  int processes = 32;                     // RLIMIT_NPROC: processes of the box at once
  size_t file_size_bytes = 16ull << 20;   // RLIMIT_FSIZE: the largest file the program may write
  size_t tmpfs_bytes = 64ull << 20;       // the box's only writable place: /tmp (its working directory),
                                          // also seen as /var/tmp and /dev/shm
  size_t output_bytes = 4ull << 20;       // stdout + stderr read before the program is killed
  size_t output_tail_bytes = 8ull << 10;  // how much of each stream the result keeps (the last bytes)
  int open_files = 256;                   // RLIMIT_NOFILE
};

struct SandboxOptions {
  std::string python;             // "" = /usr/bin/python3 if present, else python3 on PATH
  std::string bwrap;              // "" = /usr/bin/bwrap if present, else bwrap on PATH
  int parallelism = 2;
  SandboxLimits limits;
  // Runs programs with rlimits in a temporary folder and NO isolation (no namespaces, no seccomp): only
  // for machines where bubblewrap cannot work, and only when the user asked for it by name.
  bool unsafe_no_sandbox = false;
};

}  // namespace hb::sandbox
