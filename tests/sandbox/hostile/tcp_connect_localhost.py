# TCP to a listener on the host's 127.0.0.1.
import socket
s = socket.create_connection(('127.0.0.1', {{PORT}}), timeout=2)
s.sendall(b'ESC' b'APED')
