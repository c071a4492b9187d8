import socket
print(socket.gethostname())
socket.sethostname('escaped')
