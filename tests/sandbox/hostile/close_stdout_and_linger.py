# Closes its output early; the parent sees EOF but must still wait for the exit status.
import os, time
os.close(1)
os.close(2)
time.sleep(0.3)
