#!/usr/bin/env python3
"""NETCONF over SSH (paramiko): one session subscribes (RFC 5277) and then
reads nothing; another makes edit-configs, each a netconf-config-change of
~200 edits, until STOP_FILE exists (at most N), checks each <ok/>, then a
<get-config> and <close-session>. Then, once GO_FILE exists, the subscriber
reads until its session ends.

usage: notif_backlog_client.py PORT USER KEY N STOP_FILE GO_FILE
SPDX-License-Identifier: Apache-2.0
"""
import os
import sys
import time

import paramiko

port, user, key, n, stop, go = (int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]),
                                sys.argv[5], sys.argv[6])
EOM = b"]]>]]>"
NS = b'xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"'


class Session:
    """base:1.0 only: end-of-message framing (RFC 6242 section 4.3)."""

    def __init__(self):
        self.t = paramiko.Transport(("127.0.0.1", port))
        self.t.connect(username=user, pkey=paramiko.Ed25519Key.from_private_key_file(key))
        self.ch = self.t.open_session()
        self.ch.invoke_subsystem("netconf")
        self.buf = b""
        self.ch.sendall(b"<hello " + NS + b"><capabilities><capability>"
                        b"urn:ietf:params:netconf:base:1.0</capability></capabilities></hello>"
                        + EOM)
        hello = self.recv()
        self.sid = hello.split(b"<session-id>")[1].split(b"<")[0].decode()
        self.mid = 0

    def recv(self):
        while EOM not in self.buf:
            data = self.ch.recv(1 << 20)
            if not data:
                raise EOFError("session ended")
            self.buf += data
        msg, self.buf = self.buf.split(EOM, 1)
        return msg

    def rpc(self, op):
        self.mid += 1
        self.ch.sendall(b'<rpc message-id="%d" ' % self.mid + NS + b">" + op + b"</rpc>" + EOM)
        while True:
            msg = self.recv()
            if b"<rpc-reply" in msg:
                return msg


sub = Session()
print("subscriber session-id", sub.sid, flush=True)
reply = sub.rpc(b'<create-subscription xmlns="urn:ietf:params:xml:ns:netconf:notification:1.0"/>')
assert b"<ok/>" in reply, reply
ed = Session()
k = 0
while k < n and not os.path.exists(stop):
    v = b"a" if k % 2 == 0 else b"b"
    tags = b"".join(b"<tag>%s-entry-number-%03d</tag>" % (v, i) for i in range(100))
    reply = ed.rpc(b'<edit-config><target><running/></target><config><top xmlns="urn:mamori:'
                   b'test:nc" xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" '
                   b'nc:operation="replace">' + tags + b"</top></config></edit-config>")
    assert b"<ok/>" in reply, reply[:300]
    k += 1
print("edits", k, flush=True)
assert b"<data" in ed.rpc(b"<get-config><source><running/></source></get-config>")
assert b"<ok/>" in ed.rpc(b"<close-session/>")
print("editor closed", flush=True)
for _ in range(1200):
    if os.path.exists(go):
        break
    time.sleep(0.05)
notifs = 0
sub.ch.settimeout(120)
try:
    while True:
        if b"<notification" in sub.recv():
            notifs += 1
except TimeoutError:
    print("subscriber still open after %d notifications" % notifs, flush=True)
except (EOFError, OSError, paramiko.SSHException) as e:
    print("subscriber ended after %d notifications: %s" % (notifs, e), flush=True)
