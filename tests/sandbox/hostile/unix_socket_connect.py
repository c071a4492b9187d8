# A Unix socket at a filesystem path: the network namespace does not cover these; seccomp refuses socket().
import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect('{{SOCK}}')
s.sendall(b'ESC' b'APED')
