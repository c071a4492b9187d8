with open('sparse', 'wb') as f:
    f.truncate(10 * 1024 ** 3)
