#!/usr/bin/env python3
"""Send COUNT UDP datagrams of SIZE bytes to ADDR:PORT as fast as possible.
usage: udp_send.py ADDR PORT COUNT [SIZE]"""
import socket, sys
addr, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
size = int(sys.argv[4]) if len(sys.argv) > 4 else 64
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
payload = b"m" * size
for _ in range(count):
    s.sendto(payload, (addr, port))
