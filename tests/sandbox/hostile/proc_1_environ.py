# PID 1 is the box's own init; its environment holds nothing of the caller's.
import os
print(open('/proc/1/environ', 'rb').read())
print(open('/proc/self/environ', 'rb').read())
print(sorted(os.listdir('/proc'))[:50])
