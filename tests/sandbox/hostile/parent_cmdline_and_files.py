# Every process visible in /proc is the box's own: the hybench process, its cmdline and files are not.
import os
for pid in [p for p in os.listdir('/proc') if p.isdigit()]:
    cmd = open('/proc/%s/cmdline' % pid, 'rb').read()
    assert b'hostile_corpus_test' not in cmd and b'hybench' not in cmd, (pid, cmd)
    try:
        for fd in os.listdir('/proc/%s/fd' % pid):
            target = os.readlink('/proc/%s/fd/%s' % (pid, fd))
            assert '{{PROBE}}' not in target and 'hb_store' not in target, target
    except OSError:
        pass
assert not os.path.exists('/proc/{{PARENT_PID}}/cmdline') or int('{{PARENT_PID}}') < 10
