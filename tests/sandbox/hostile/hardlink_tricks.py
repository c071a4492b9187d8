import os
made = []
for src in ('/etc/shadow', '{{SECRET}}', '/etc/ld.so.cache', '/usr/bin/python3'):
    try:
        os.link(src, 'link-%d' % len(made))
        made.append(src)
    except OSError:
        pass
print(made)
if made:
    print('ESC' 'APED', made)
raise SystemExit('hard links refused')
