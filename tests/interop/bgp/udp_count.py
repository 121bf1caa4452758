#!/usr/bin/env python3
"""UDP receiver for the install-mode test: counts datagrams per port on the
given address and remembers the last TOS byte seen (IP_RECVTOS), rewriting
OUT (JSON) after every change. usage: udp_count.py ADDR OUT PORT..."""
import json, os, select, socket, sys

addr, out, ports = sys.argv[1], sys.argv[2], [int(p) for p in sys.argv[3:]]
socks = {}
for p in ports:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_RECVTOS, 1)
    s.bind((addr, p))
    socks[s.fileno()] = (s, p)
counts = {str(p): 0 for p in ports}
tos = {str(p): None for p in ports}

def dump():
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"counts": counts, "tos": tos}, f)
    os.replace(tmp, out)

dump()
while True:
    r, _, _ = select.select(list(socks), [], [], 1.0)
    for fd in r:
        s, p = socks[fd]
        _, anc, _, _ = s.recvmsg(2048, socket.CMSG_SPACE(4))
        counts[str(p)] += 1
        for level, typ, data in anc:
            if level == socket.IPPROTO_IP and typ == socket.IP_TOS:
                tos[str(p)] = data[0]
    if r:
        dump()
