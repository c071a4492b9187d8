# kill(-1) reaches only the box's own processes (here: its child), never the caller's.
import os, signal, time
child = os.fork()
if child == 0:
    time.sleep(100)
    os._exit(0)
time.sleep(0.1)
os.kill(-1, signal.SIGKILL)
_, status = os.waitpid(child, 0)
assert os.WIFSIGNALED(status), status
print('still here')
