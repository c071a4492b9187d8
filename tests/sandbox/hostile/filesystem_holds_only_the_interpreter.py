# The root holds the interpreter and nothing of the caller: no home, no /work, no /etc/shadow, no /root.
import os
top = set(os.listdir('/'))
assert top <= {'usr', 'lib', 'lib64', 'bin', 'sbin', 'etc', 'proc', 'dev', 'tmp', 'var', 'root', 'opt'}, top
for p in ('/home', '/work', '/etc/shadow', '/etc/passwd', '/root/.bash_history', '/run', '/sys', '/mnt', '/srv', '/boot', '{{PROBE}}'):
    assert not os.path.exists(p), p
assert os.listdir('/etc') == ['ld.so.cache'] or set(os.listdir('/etc')) <= {'ld.so.cache'}, os.listdir('/etc')
assert sorted(os.listdir('/dev')) == ['null', 'random', 'shm', 'urandom', 'zero'], os.listdir('/dev')
