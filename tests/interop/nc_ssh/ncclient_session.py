#!/usr/bin/env python3
"""ncclient (Debian python3-ncclient, over paramiko) against mamori-netconfd over SSH.

usage: ncclient_session.py PORT ADMIN_KEY GUEST_KEY HOSTKEY_B64
Every step checks the server's answer; any mismatch raises and exits non-zero.
SPDX-License-Identifier: Apache-2.0
"""
import sys
import time

from ncclient import manager
from ncclient.operations import RPCError
from ncclient.xml_ import to_ele

PORT, ADMIN_KEY, GUEST_KEY, HOSTKEY = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
NS = "urn:mamori:test:nc"


def connect(user, key):
    # The server must present exactly the daemon's host key (hostkey_b64:
    # ncclient 0.6 refuses any other; no trust on first use).
    return manager.connect(host="127.0.0.1", port=PORT, username=user, key_filename=key,
                           hostkey_verify=True, hostkey_b64=HOSTKEY, allow_agent=False,
                           look_for_keys=False, timeout=30, device_params={"name": "default"})


def step(msg):
    print("ok:", msg, flush=True)


m = connect("admin", ADMIN_KEY)
caps = list(m.server_capabilities)
assert "urn:ietf:params:netconf:base:1.1" in caps, caps
assert any(c.startswith("urn:ietf:params:netconf:capability:candidate") for c in caps), caps
assert m.session_id and int(m.session_id) > 0
step("hello, session-id %s, %d capabilities" % (m.session_id, len(caps)))

r = m.get_config(source="running")
assert "<nacm" in r.xml, r.xml[:300]
step("get-config running")

m.lock(target="candidate")
step("lock candidate")

cfg = """<config xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><top xmlns="%s"><name>via-ssh</name><mtu>9000</mtu>
<item><id>a</id><value>7</value></item></top></config>""" % NS
m.edit_config(target="candidate", config=cfg)
step("edit-config candidate")

m.validate(source="candidate")
step("validate candidate")

# A second session must be refused the lock (RFC 6241 section 7.5).
g = connect("admin", ADMIN_KEY)
try:
    g.lock(target="candidate")
    raise SystemExit("second lock of candidate was granted")
except RPCError as e:
    assert e.tag == "lock-denied", e.tag
step("lock held against a second session (lock-denied)")

# Subscribe on the second session before the commit: the commit must be
# announced as netconf-config-change (RFC 6470) on the NETCONF stream.
g.create_subscription()
step("create-subscription")

m.commit()
step("commit")
m.unlock(target="candidate")
step("unlock candidate")

r = m.get_config(source="running", filter=("subtree", '<top xmlns="%s"/>' % NS))
assert "<name>via-ssh</name>" in r.xml and "<mtu>9000</mtu>" in r.xml, r.xml
step("running holds the committed edit")

deadline = time.time() + 20
got = None
while time.time() < deadline and got is None:
    n = g.take_notification(timeout=2)
    if n is not None and "netconf-config-change" in n.notification_xml:
        got = n
assert got is not None, "no netconf-config-change notification"
step("notification netconf-config-change received")
g.close_session()

s = m.get_schema("nc-test")
assert "module nc-test" in s.data, s.data[:200]
step("get-schema nc-test")

# An RPC ncclient has no method for: sent as raw XML through dispatch.
r = m.dispatch(to_ele('<get-data xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-nmda" '
                      'xmlns:ds="urn:ietf:params:xml:ns:yang:ietf-datastores">'
                      '<datastore>ds:running</datastore></get-data>'))
assert "via-ssh" in r.xml, r.xml[:300]
step("get-data (dispatch)")
m.close_session()
step("close-session")

# NACM user = SSH user: guest is authenticated but may not write.
gst = connect("guest", GUEST_KEY)
try:
    gst.edit_config(target="running", config=cfg.replace("via-ssh", "guest-was-here"))
    raise SystemExit("guest edit-config was allowed")
except RPCError as e:
    assert e.tag == "access-denied", e.tag
step("guest edit-config -> access-denied (NACM user is the SSH user)")
gst.close_session()
print("ALL OK", flush=True)
