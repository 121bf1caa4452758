#!/usr/bin/env python3
# Record one BMP session verbatim: listen on 127.0.0.1:PORT, accept one
# connection, append every byte to FILE until the router closes it.
# usage: bmp_record.py PORT FILE   (prints "listening" once bound)
import socket
import sys

port, path = int(sys.argv[1]), sys.argv[2]
srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(('127.0.0.1', port))
srv.listen(1)
print('listening', flush=True)
conn, _ = srv.accept()
with open(path, 'wb') as out:
    while True:
        data = conn.recv(65536)
        if not data:
            break
        out.write(data)
        out.flush()
