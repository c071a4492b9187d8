# Links to /etc/shadow and to the probe folder at every name a parent might read or remove.
import os, sys
for name in ('.stdout', '.stderr', 'hb_program.py', 'prog.py', 'stdout', 'stderr', 'output', 'result.json'):
    try:
        os.remove(name)
    except OSError:
        pass
    os.symlink('/etc/shadow', name)
os.symlink('{{PROBE}}', 'probe-link')
os.symlink('/', 'root-link')
sys.exit(3)
