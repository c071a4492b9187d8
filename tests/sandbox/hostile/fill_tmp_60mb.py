# 60 MB into /tmp: allowed inside the box (64 MiB tmpfs), gone with it.
for i in range(4):
    with open('/tmp/{{MARKER}}-%d' % i, 'wb') as f:
        f.write(b'x' * (15 << 20))
