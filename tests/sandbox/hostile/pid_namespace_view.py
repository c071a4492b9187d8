# The program is PID 1's child in a PID namespace of its own: it sees only the box's init and itself.
import os
# The prelude re-executed this process once with the marker, so it kept its pid.
assert os.getppid() == 1, os.getppid()
pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())
assert pids == [1, os.getpid()], pids
assert os.getpid() < 10, os.getpid()
print(open('/proc/1/cmdline', 'rb').read().split(b'\0')[0])
