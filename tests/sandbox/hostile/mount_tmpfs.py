import ctypes
libc = ctypes.CDLL(None, use_errno=True)
if libc.mount(b'none', b'/tmp', b'tmpfs', 0, None) == 0:
    print('ESC' 'APED')
raise SystemExit('mount refused')
