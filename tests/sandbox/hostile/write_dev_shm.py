# /dev/shm, by path and through POSIX shared memory: private to the box.
open('/dev/shm/{{MARKER}}', 'w').write('left behind?')
from multiprocessing import shared_memory
m = shared_memory.SharedMemory(name='{{MARKER}}-shm', create=True, size=4096)
m.buf[0] = 1
m.close()
