# Blocks forever opening its own FIFO; only the wall-clock kill ends it.
import os
os.mkfifo('pipe')
open('pipe').read()
