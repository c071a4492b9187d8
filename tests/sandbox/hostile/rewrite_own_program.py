# The program file is the box's own copy: replacing it with a link to /etc/shadow or a FIFO changes nothing
# for the parent, which never reads it back.
import os, sys
path = os.path.abspath(sys.argv[0])
os.remove(path)
os.symlink('/etc/shadow', path)
os.mkfifo(path + '.fifo')
sys.exit(1)
