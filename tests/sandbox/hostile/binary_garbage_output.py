import os, sys
os.write(1, bytes(range(256)) * 64)
os.write(2, b'\xff\xfe\x00bad utf8\xc3\x28\n')
sys.exit(1)
