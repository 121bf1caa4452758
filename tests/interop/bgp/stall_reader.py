#!/usr/bin/env python3
"""A control-socket client that asks mamori-bgpd for the RIB and then reads
nothing (an operator's pager stopped, a wedged script). It writes to STATUS
the bytes queued for it (FIONREAD) every 0.1 s until killed, so the test
can wait for the reply to have started, see it never becomes the whole
table, and see whether the daemon closed the connection. usage: stall_reader.py SOCKET FAMILY STATUS"""
import fcntl, os, select, socket, struct, sys, termios, time

path, fam, status = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.connect(path)
s.sendall(b'{"cmd":"rib","family":"%s"}\n' % fam.encode())
while True:
    n = struct.unpack("i", fcntl.ioctl(s.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]
    # POLLRDHUP: the daemon closed its side (data may still be queued unread).
    p = select.poll()
    p.register(s, select.POLLRDHUP)
    hup = any(ev & (select.POLLRDHUP | select.POLLHUP) for _, ev in p.poll(0))
    with open(status + ".tmp", "w") as f:
        f.write("%d %s\n" % (n, "closed" if hup else "open"))
    os.replace(status + ".tmp", status)
    time.sleep(0.1)
