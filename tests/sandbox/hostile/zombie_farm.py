# Children never reaped by the program: the namespace's init reaps them.
import os
for _ in range(20):
    if os.fork() == 0:
        os._exit(0)
