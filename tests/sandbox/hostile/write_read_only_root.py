import os
for p in ('/usr/lib/python3.11/os.py', '/usr/escape', '/etc/escape', '/dev/escape', '/escape'):
    try:
        open(p, 'a').write('x')
        print('ESC' 'APED', p)
    except OSError as e:
        last = e
raise last
