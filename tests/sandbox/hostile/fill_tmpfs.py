# Many files each under the file-size limit until the tmpfs is full.
i = 0
while True:
    with open('/tmp/fill-%d' % i, 'wb') as f:
        f.write(b'z' * (8 << 20))
    i += 1
