import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.settimeout(2)
s.connect(('2606:4700:4700::1111', 80))
