# A FIFO where the parent once read stdout from: the parent must not block on it.
import os
for name in ('.stdout', '.stderr', 'hb_program.py.out'):
    os.mkfifo(name)
