#!/usr/bin/env python3
"""A NETCONF-over-SSH client (paramiko) that pipelines N <get-config> requests
without reading, lets the test check the server's output stays bounded, then
reads everything and checks every reply arrived, in order.

usage: backpressure_client.py PORT USER KEY N READY_FILE GO_FILE
SPDX-License-Identifier: Apache-2.0
"""
import os
import re
import sys
import threading
import time

import paramiko

port, user, key, n, ready, go = (int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]),
                                  sys.argv[5], sys.argv[6])
t = paramiko.Transport(("127.0.0.1", port))
t.connect(username=user, pkey=paramiko.Ed25519Key.from_private_key_file(key))
ch = t.open_session()
ch.invoke_subsystem("netconf")
EOM = b"]]>]]>"
# base:1.0 only: end-of-message framing (RFC 6242 section 4.3).
ch.sendall(b'<hello xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><capabilities>'
           b'<capability>urn:ietf:params:netconf:base:1.0</capability></capabilities></hello>' + EOM)
buf = b""
while EOM not in buf:
    buf += ch.recv(65536)
buf = buf.split(EOM, 1)[1]


def send_all():
    for i in range(1, n + 1):
        ch.sendall(b'<rpc message-id="%d" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0">'
                   b'<get-config><source><running/></source></get-config></rpc>' % i + EOM)


sender = threading.Thread(target=send_all, daemon=True)
sender.start()
# Let the server work until its output backs up; the test checks the bound.
open(ready, "w").write("sent")
for _ in range(1200):
    if os.path.exists(go):
        break
    time.sleep(0.05)
ids = []
while len(ids) < n:
    data = ch.recv(1 << 20)
    if not data:
        break
    buf += data
    while EOM in buf:
        msg, buf = buf.split(EOM, 1)
        m = re.search(rb'message-id="(\d+)"', msg)
        assert m and b"<data" in msg, msg[:200]
        ids.append(int(m.group(1)))
sender.join(30)
assert ids == list(range(1, n + 1)), "replies lost or out of order: got %d" % len(ids)
print("all %d replies, in order" % n)
t.close()
