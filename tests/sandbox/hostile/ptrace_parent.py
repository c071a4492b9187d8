import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
PTRACE_ATTACH = 16
for pid in (os.getppid(), 1, {{PARENT_PID}}):
    if libc.ptrace(PTRACE_ATTACH, pid, None, None) == 0:
        print('ESC' 'APED', pid)
raise OSError(ctypes.get_errno(), 'ptrace refused')
