import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(b'ESC' b'APED', ('127.0.0.1', {{PORT}}))
