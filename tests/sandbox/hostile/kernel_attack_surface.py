# keyctl, add_key, bpf, perf_event_open, io_uring_setup, userfaultfd, kexec_load, init_module,
# finit_module, delete_module, iopl, ioperm, personality, syslog, reboot: each must fail with EPERM.
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
calls = {'keyctl': 250, 'add_key': 248, 'bpf': 321, 'perf_event_open': 298, 'io_uring_setup': 425,
         'userfaultfd': 323, 'kexec_load': 246, 'init_module': 175, 'finit_module': 313,
         'delete_module': 176, 'iopl': 172, 'ioperm': 173, 'personality': 135, 'syslog': 103, 'reboot': 169}
bad = []
for name, nr in calls.items():
    ctypes.set_errno(0)
    rc = libc.syscall(nr, 0, 0, 0, 0, 0)
    if rc >= 0 or ctypes.get_errno() != 1:
        bad.append((name, rc, ctypes.get_errno()))
if bad:
    print('NOT REFUSED BY SECCOMP', bad)
    raise SystemExit(2)
raise SystemExit('all refused')
