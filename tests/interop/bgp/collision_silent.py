#!/usr/bin/env python3
"""A scripted BGP peer for collision_silent.sh (RFC 4271 section 6.8).

It listens on PEER:PORT and accepts mamori-bgpd's connection; before
answering on it, it dials mamori-bgpd from PEER itself and stays silent on
that second connection (no OPEN, so mamori holds it). Then it completes the
session on the first connection (OPEN, KEEPALIVE) and reports what happens
to the silent one once the session is Established: a NOTIFICATION
Cease / Connection Collision Resolution (6/7), then the close.
usage: collision_silent.py PEER MAMORI PORT AS ROUTER-ID
Prints 'silent-notification C/S' and 'silent-closed', or 'silent-open' when
the silent connection is still open after the wait.
"""
import select
import socket
import struct
import sys
import time

peer, mamori, port, asn, rid = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]


def msg(kind, body=b""):
    return b"\xff" * 16 + struct.pack("!HB", 19 + len(body), kind) + body


def open_msg():
    # Multiprotocol capability: IPv4 FlowSpec (AFI 1, SAFI 133).
    mp = bytes([1, 4]) + struct.pack("!HBB", 1, 0, 133)
    opt = bytes([2, len(mp)]) + mp
    return msg(1, struct.pack("!BHH4sB", 4, asn, 90, socket.inet_aton(rid), len(opt)) + opt)


def read_msg(s, deadline):
    """One BGP message; None on timeout, b'' on close."""
    buf = b""
    while True:
        need = 19 if len(buf) < 19 else struct.unpack("!H", buf[16:18])[0]
        if len(buf) >= need:
            return buf[:need]
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([s], [], [], left)[0]:
            return None
        try:
            d = s.recv(need - len(buf))
        except ConnectionResetError:
            return b""
        if not d:
            return b""
        buf += d


ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((peer, port))
ls.listen(4)
print("listening", flush=True)
first, _ = ls.accept()
# mamori sends its OPEN at once on its own connection.
m = read_msg(first, time.monotonic() + 20)
if not m or m[18] != 1:
    print("no-open-from-mamori", flush=True)
    sys.exit(1)
silent = socket.socket()
silent.bind((peer, 0))
silent.connect((mamori, port))
print("silent-connected", flush=True)
# Let mamori accept (and hold) the silent connection before the session moves
# on: the caller confirms the hold in mamori's log and writes a line to stdin.
sys.stdin.readline()
first.sendall(open_msg() + msg(4))
deadline = time.monotonic() + 20
while True:
    m = read_msg(first, deadline)
    if not m:
        print("first-connection-lost", flush=True)
        sys.exit(1)
    if m[18] == 4:
        print("established", flush=True)
        break
m = read_msg(silent, time.monotonic() + 15)
if m and m[18] == 3:
    print("silent-notification %d/%d" % (m[19], m[20]), flush=True)
    m = read_msg(silent, time.monotonic() + 15)
print("silent-closed" if m == b"" else "silent-open", flush=True)
# Keep the session up until the test is done with it.
sys.stdin.readline()
