# An abstract Unix socket (no path): refused at socket().
import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect('\0hb-abstract-{{MARKER}}')
