# The daemon keeps stdout and stderr open: the parent must not wait for them to close.
import os, time
if os.fork() == 0:
    os.setsid()
    while True:
        time.sleep(1)
print('main exits')
