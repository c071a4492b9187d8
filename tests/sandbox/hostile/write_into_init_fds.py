# Writing into descriptors of the namespace's init (bubblewrap) must not forge the run's status.
import os
for fd in os.listdir('/proc/1/fd'):
    try:
        f = os.open('/proc/1/fd/' + fd, os.O_WRONLY)
        os.write(f, b'{ "child-pid": 1, "exit-code": 0 }\n')
        os.close(f)
    except OSError:
        pass
print('ok')
