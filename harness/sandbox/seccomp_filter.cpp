#include "harness/sandbox/seccomp_filter.h"

#include "harness/base/error.h"

#ifndef HB_HAVE_LIBSECCOMP

namespace hb::sandbox {

std::string build_seccomp_bpf() {
  throw Error(ErrorCode::config,
              "sandbox: hybench was built without libseccomp, so MBPP programs cannot be confined; install "
              "libseccomp-dev and rebuild, or pass --unsafe-no-sandbox to run them without any isolation");
}

}  // namespace hb::sandbox

#else

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <memory>

namespace hb::sandbox {
namespace {

// Refused outright. A name the running libseccomp does not know is skipped (older kernels lack some).
constexpr const char* kDenied[] = {
    "socket", "socketpair", "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount",
    "fspick", "mount_setattr", "unshare", "setns", "keyctl", "add_key", "request_key", "bpf",
    "perf_event_open", "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "iopl", "ioperm", "personality", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
    "swapon", "swapoff", "reboot", "acct", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
    "syslog", "quotactl", "quotactl_fd", "open_by_handle_at", "name_to_handle_at", "fanotify_init",
    "lookup_dcookie", "vhangup", "uselib", "sethostname", "setdomainname",
};

constexpr unsigned long kNamespaceFlags[] = {CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER,
                                             CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP};

void check(int rc, const char* what) {
  if (rc < 0)
    throw Error(ErrorCode::internal, std::string("sandbox: libseccomp failed to ") + what + " (errno " +
                                         std::to_string(-rc) + "); check the libseccomp2 installation");
}

}  // namespace

std::string build_seccomp_bpf() {
  std::unique_ptr<void, void (*)(scmp_filter_ctx)> ctx(seccomp_init(SCMP_ACT_ALLOW), seccomp_release);
  if (!ctx) throw Error(ErrorCode::internal, "sandbox: seccomp_init failed; check the libseccomp2 installation");
  const uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
  for (const char* name : kDenied) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;
    check(seccomp_rule_add(ctx.get(), eperm, nr, 0), name);
  }
  for (unsigned long flag : kNamespaceFlags)
    check(seccomp_rule_add(ctx.get(), eperm, SCMP_SYS(clone), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag)), "clone");
  check(seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0), "clone3");
  // Pushing characters into a terminal's input queue (the box has no terminal, but a leaked fd could be one).
  for (unsigned long request : {static_cast<unsigned long>(TIOCSTI), static_cast<unsigned long>(TIOCLINUX)})
    check(seccomp_rule_add(ctx.get(), eperm, SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, request)),
          "ioctl");

  int fd = memfd_create("hb-seccomp", MFD_CLOEXEC);
  if (fd < 0) throw Error(ErrorCode::io, "sandbox: memfd_create failed for the seccomp program");
  std::string bpf;
  int rc = seccomp_export_bpf(ctx.get(), fd);
  if (rc == 0) {
    off_t size = lseek(fd, 0, SEEK_END);
    bpf.resize(size > 0 ? static_cast<size_t>(size) : 0);
    if (pread(fd, &bpf[0], bpf.size(), 0) != static_cast<ssize_t>(bpf.size())) rc = -EIO;
  }
  close(fd);
  check(rc, "export the BPF program");
  if (bpf.empty()) throw Error(ErrorCode::internal, "sandbox: libseccomp exported an empty seccomp program");
  return bpf;
}

}  // namespace hb::sandbox

#endif  // HB_HAVE_LIBSECCOMP
