import os, time
for _ in range(5):
    if os.fork() == 0:
        os.setsid()
        while True:
            pass
time.sleep(1000)
