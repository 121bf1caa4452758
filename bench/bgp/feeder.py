#!/usr/bin/env python3
"""BGP feeder for bench/bgp: one eBGP session (AS 65100, 4-octet AS, IPv4
unicast + IPv4 FlowSpec) that announces N_UNICAST /24 prefixes and N_FLOW
FlowSpec rules (each with a discard and an IFIT EC), then End-of-RIB for
both families, and keeps the session up (keepalives) until killed.
The UPDATEs are built before connecting, so the stream runs at socket speed.
usage: feeder.py SRC DST PORT PEER_AS N_UNICAST N_FLOW"""
import socket, struct, sys, threading, time

src, dst, port, peer_as, n_uni, n_flow = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
MY_AS, MAX = 65100, 4096

def msg(t, body):
    return b"\xff" * 16 + struct.pack(">HB", 19 + len(body), t) + body

def attr(flags, code, val):
    if len(val) > 255:
        return struct.pack(">BBH", flags | 0x10, code, len(val)) + val
    return struct.pack(">BBB", flags, code, len(val)) + val

ORIGIN = attr(0x40, 1, b"\x00")
ASPATH = attr(0x40, 2, b"\x02\x01" + struct.pack(">I", MY_AS))
NEXTHOP = attr(0x40, 3, socket.inet_aton("10.0.0.100"))
ECS = attr(0xC0, 16, bytes.fromhex("8006000000000000" "81aa00011234560f"))

def updates_unicast():
    out, nlri, room = [], [], MAX - 19 - 4 - len(ORIGIN + ASPATH + NEXTHOP)
    for i in range(n_uni):
        nlri.append(bytes((24, 1 + i // 65536, (i // 256) % 256, i % 256)))
        if len(nlri) * 4 + 4 > room:
            a = ORIGIN + ASPATH + NEXTHOP
            out.append(msg(2, b"\x00\x00" + struct.pack(">H", len(a)) + a + b"".join(nlri)))
            nlri = []
    if nlri:
        a = ORIGIN + ASPATH + NEXTHOP
        out.append(msg(2, b"\x00\x00" + struct.pack(">H", len(a)) + a + b"".join(nlri)))
    return out

def updates_flow():
    out, rules = [], []
    def flush():
        mp = attr(0x80, 14, b"\x00\x01\x85\x00\x00" + b"".join(rules))
        a = ORIGIN + ASPATH + ECS + mp
        out.append(msg(2, b"\x00\x00" + struct.pack(">H", len(a)) + a))
    for i in range(n_flow):
        r = bytes((1, 24, 100 + i // 65536, (i // 256) % 256, i % 256, 3, 0x81, 17, 5, 0x91)) + struct.pack(">H", i % 65535 + 1)
        rules.append(bytes((len(r),)) + r)
        if len(rules) * 13 > 3800:  # 64 bytes of attributes + 23 of headers fit too
            flush()
            rules = []
    if rules:
        flush()
    return out

def cap(code, val):
    return bytes((code, len(val))) + val

caps = cap(1, b"\x00\x01\x00\x01") + cap(1, b"\x00\x01\x00\x85") + cap(65, struct.pack(">I", MY_AS)) + cap(2, b"")
OPEN = msg(1, struct.pack(">BHHIB", 4, MY_AS, 180, 0x0a000064, len(caps) + 2) + b"\x02" + bytes((len(caps),)) + caps)
KEEPALIVE = msg(4, b"")
EOR4 = msg(2, b"\x00\x00\x00\x00")
EORF = msg(2, b"\x00\x00\x00\x06" + attr(0x80, 15, b"\x00\x01\x85"))

stream = b"".join(updates_unicast()) + b"".join(updates_flow()) + EOR4 + EORF
s = socket.socket()
s.bind((src, 0))
for _ in range(600):
    try:
        s.connect((dst, port))
        break
    except OSError:
        time.sleep(0.1)
        s.close()
        s = socket.socket()
        s.bind((src, 0))
s.sendall(OPEN)

def recv_msg():
    hdr = b""
    while len(hdr) < 19:
        d = s.recv(19 - len(hdr))
        if not d:
            raise SystemExit("feeder: connection closed")
        hdr += d
    ln = struct.unpack(">H", hdr[16:18])[0]
    body = b""
    while len(body) < ln - 19:
        d = s.recv(ln - 19 - len(body))
        if not d:
            raise SystemExit("feeder: connection closed")
        body += d
    return hdr[18], body

while True:
    t, body = recv_msg()
    if t == 1:
        s.sendall(KEEPALIVE)
    elif t == 4:
        break
    elif t == 3:
        raise SystemExit("feeder: NOTIFICATION %d/%d" % (body[0], body[1]))

def drain():
    try:
        while recv_msg():
            pass
    except (SystemExit, OSError):
        pass

threading.Thread(target=drain, daemon=True).start()
print("feeder: established, streaming %d bytes" % len(stream), flush=True)
s.sendall(stream)
print("feeder: sent", flush=True)
while True:
    time.sleep(20)
    s.sendall(KEEPALIVE)
