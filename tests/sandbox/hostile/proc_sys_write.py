for p in ('/proc/sys/kernel/hostname', '/proc/sysrq-trigger', '/proc/sys/vm/drop_caches'):
    try:
        open(p, 'w').write('1')
        print('ESC' 'APED', p)
    except OSError as e:
        last = e
raise last
