with open('big', 'wb') as f:
    for _ in range(32):
        f.write(b'q' * (1 << 20))
