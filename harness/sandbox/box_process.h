#pragma once
// Starts one sandboxed command and collects what it did, without ever touching a path the program can
// control: its stdout and stderr come through pipes this process created, read without blocking and capped;
// the exit status comes from waitpid. The command runs under a "keeper", a forked child that is a child
// subreaper: the keeper waits for the command and for every process that gets re-parented to it (the
// namespace's init once bubblewrap's monitor exits), so when the keeper has exited, the whole tree is dead
// and reaped, even on hosts whose init does not reap. The keeper dies with this process (PDEATHSIG).
#include <sys/types.h>

#include <cstddef>
#include <string>
#include <vector>

namespace hb::sandbox {

struct BoxCommand {
  std::vector<std::string> argv;  // argv[0] is an absolute path
  std::vector<std::string> env;   // the whole environment, "NAME=value"
  std::string cwd = "/";
  std::vector<int> fds;           // fds[i] is fd 3+i in the command; the caller keeps ownership
  bool status_pipe = false;       // a pipe at fd 3+fds.size(), read into BoxExit::status_text (bwrap's
                                  // --json-status-fd: the namespace init's pid comes first)
  bool reap_subtree = true;       // keeper waits for every re-parented descendant (bwrap); false: only the
                                  // command, then its process group is killed (unsafe mode)
  int uid = -1;                   // switch to this uid and gid before exec (needs root)
  // rlimits of the command (0 = leave as is); cpu_s is the soft limit, the hard one is a second more
  unsigned long cpu_s = 0, memory_bytes = 0, file_size_bytes = 0, processes = 0, open_files = 0;
};

struct BoxExit {
  bool started = false;           // false: fork/pipe failed; error says why
  std::string error;
  int wait_status = 0;            // of argv[0], as waitpid reported it
  bool timed_out = false;         // killed at the wall-clock limit
  bool output_limit = false;      // killed because stdout + stderr went over output_bytes
  double wall_s = 0;
  std::string stdout_tail, stderr_tail;  // the last tail_bytes of each
  bool truncated = false;
  size_t output_bytes_read = 0;
  std::string status_text;        // what the status pipe carried (bounded)
};

BoxExit run_box(const BoxCommand& command, double timeout_s, size_t output_bytes, size_t tail_bytes);

}  // namespace hb::sandbox
