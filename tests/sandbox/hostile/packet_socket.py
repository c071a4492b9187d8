import socket
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
