#pragma once
// The seccomp program every sandboxed MBPP program runs under, built with libseccomp and handed to
// bubblewrap (`--seccomp FD`). Default: allow. Refused with EPERM: what a test program never needs and an
// attacker would (sockets of every family, ptrace and cross-process memory access, mount and namespace
// calls, clone with namespace flags, keyrings, bpf, perf events, kexec, modules, raw I/O ports, personality,
// userfaultfd, io_uring, swap/reboot/clock changes, TIOCSTI). clone3 gets ENOSYS (its flags sit behind a
// pointer that seccomp cannot read) so that libc falls back to clone, whose flags are checked.
#include <string>

namespace hb::sandbox {

// The filter as a raw BPF program (struct sock_filter array) for the native architecture. Other
// architectures' system calls (32-bit int 0x80, x32) kill the process. Throws Error{internal} when
// libseccomp fails, Error{config} when hybench was built without it (the sandbox then refuses to run).
std::string build_seccomp_bpf();

}  // namespace hb::sandbox
