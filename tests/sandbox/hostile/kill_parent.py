# The hybench process is not in the box's PID namespace; os.getppid() is the namespace's init.
import os, signal
os.kill(os.getppid(), signal.SIGKILL)  # the init ignores it
os.kill({{PARENT_PID}}, signal.SIGKILL)
