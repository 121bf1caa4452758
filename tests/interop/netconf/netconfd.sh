#!/usr/bin/env bash
# Interop: `mamori nc` as a client of yuma123 netconfd (an independent NETCONF
# server) over netconfd's loopback tcp-direct transport.
#   usage: netconfd.sh PATH/TO/mamori
# Exits 77 (skip) when netconfd is not installed (Debian: netconfd, libyuma-base).
# SPDX-License-Identifier: Apache-2.0
set -u
MAMORI=${1:?usage: netconfd.sh PATH/TO/mamori}
. "$(dirname "$0")/../../lib/skip.sh"
command -v netconfd >/dev/null 2>&1 ||
  mm_skip "netconfd not installed (apt-get install netconfd libyuma-base)"

"$MAMORI" nc help >/dev/null 2>&1 || mm_skip "this mamori has no 'nc' noun (src/cli/nc.c not linked)"

TMP=$(mktemp -d /tmp/mm-nc-interop.XXXXXX)
NCD_PID=
cleanup() {
  [ -n "$NCD_PID" ] && kill "$NCD_PID" 2>/dev/null && wait "$NCD_PID" 2>/dev/null
  [ -n "${KEEP:-}" ] || rm -rf "$TMP"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  [ -f "$TMP/netconfd.log" ] && tail -20 "$TMP/netconfd.log" >&2
  exit 1
}
ok() { echo "ok: $*"; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' \
    2>/dev/null || echo $(( 20000 + RANDOM % 20000 ))
}
PORT=$(free_port)

# netconfd keeps state under HOME/.yuma and its socket under --ncxserver-sockname.
export HOME="$TMP"
netconfd --tcp-direct-address=127.0.0.1 --tcp-direct-port="$PORT" --no-startup \
  --superuser=tester --target=candidate --runpath="$TMP" \
  --ncxserver-sockname="$TMP/ncxserver.sock" --log="$TMP/netconfd.log" --log-level=info \
  >"$TMP/netconfd.out" 2>&1 &
NCD_PID=$!

nc() {
  "$MAMORI" nc --transport tcp-direct --host 127.0.0.1 --port "$PORT" --user tester \
    --rpc-timeout 10 "$@" 2>>"$TMP/stderr"
}

up=0
for _ in $(seq 1 100); do
  if nc hello >"$TMP/hello" 2>/dev/null; then up=1; break; fi
  kill -0 "$NCD_PID" 2>/dev/null || fail "netconfd exited: $(cat "$TMP/netconfd.out")"
  sleep 0.1
done
[ "$up" = 1 ] || fail "netconfd did not answer on port $PORT"

# hello: a session-id, base:1.1 (chunked framing), candidate
grep -q '^session-id: [1-9][0-9]*$' "$TMP/hello" || fail "hello: no session-id"
grep -q '^framing: chunked$' "$TMP/hello" || fail "hello: not chunked"
grep -q 'urn:ietf:params:netconf:capability:candidate:1.0' "$TMP/hello" || fail "hello: caps"
grep -q 'warning: tcp-direct is plaintext' "$TMP/stderr" || fail "no plaintext warning"
ok "hello"

nc --json hello >"$TMP/hello.json" || fail "hello --json"
python3 - "$TMP/hello.json" <<'EOF' || fail "hello --json output"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["session-id"] > 0 and j["framing"] == "chunked"
assert "urn:ietf:params:netconf:base:1.1" in j["capabilities"]
EOF
ok "hello --json"

NS_ACM=urn:ietf:params:xml:ns:yang:ietf-netconf-acm
cat >"$TMP/edit.xml" <<EOF
<nacm xmlns="$NS_ACM">
  <groups><group><name>mamori-interop</name><user-name>alice</user-name></group></groups>
</nacm>
EOF

nc get-config --source running >"$TMP/running0" || fail "get-config running"
ok "get-config"

nc lock --target candidate >"$TMP/out" || fail "lock candidate"
grep -qx ok "$TMP/out" || fail "lock: no ok"
ok "lock"

nc edit-config --target candidate --config "$TMP/edit.xml" >"$TMP/out" || fail "edit-config"
grep -qx ok "$TMP/out" || fail "edit-config: no ok"
nc get-config --source candidate >"$TMP/cand" || fail "get-config candidate"
grep -q mamori-interop "$TMP/cand" || fail "candidate lacks the edit"
grep -q mamori-interop "$TMP/running0" && fail "running changed before commit"
ok "edit-config candidate"

nc commit >"$TMP/out" || fail "commit"
nc get-config --source running >"$TMP/running1" || fail "get-config after commit"
grep -q mamori-interop "$TMP/running1" || fail "commit did not reach running"
ok "commit"

# filters: subtree and xpath
nc get --filter "<nacm xmlns=\"$NS_ACM\"><groups/></nacm>" >"$TMP/out" || fail "get subtree"
grep -q '<user-name>alice</user-name>' "$TMP/out" || fail "subtree filter result"
# netconfd resolves XPath prefixes by module prefix, so use the module's own ("nacm")
nc get-config --xpath /nacm:nacm/nacm:groups --ns nacm=$NS_ACM >"$TMP/out" || fail "get-config xpath"
grep -q mamori-interop "$TMP/out" || fail "xpath filter result"
ok "filters"

# raw rpc from stdin, JSON output
echo "<get-config><source><candidate/></source></get-config>" | nc --json rpc --file - \
  >"$TMP/out.json" || fail "rpc --file -"
python3 - "$TMP/out.json" <<'EOF' || fail "rpc --json output"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["ok"] is True and "mamori-interop" in j["data"]
EOF
ok "rpc --file - --json"

# confirmed commit with persist, confirmed from a second session
cat >"$TMP/edit2.xml" <<EOF
<config><nacm xmlns="$NS_ACM"><groups><group><name>second</name><user-name>bob</user-name>
</group></groups></nacm></config>
EOF
nc edit-config --target candidate --config "$TMP/edit2.xml" >/dev/null || fail "edit-config 2"
nc commit --confirmed --timeout 60 --persist mm1 >/dev/null || fail "confirmed commit"
nc commit --persist-id mm1 >/dev/null || fail "confirming commit"
nc get-config >"$TMP/out" || fail "get-config 2"
grep -q '<name>second</name>' "$TMP/out" || fail "confirmed commit lost"
ok "confirmed commit (persist)"

nc discard-changes >"$TMP/out" || fail "discard-changes"
ok "discard-changes"

# rpc-error: exit 1, error-tag and message printed
: >"$TMP/stderr"
nc unlock --target candidate >/dev/null && fail "unlock without lock succeeded"
grep -q 'rpc-error' "$TMP/stderr" || fail "rpc-error not printed: $(cat "$TMP/stderr")"
nc --json unlock --target candidate >"$TMP/out.json"
[ $? = 1 ] || fail "unlock --json exit status"
python3 - "$TMP/out.json" <<'EOF' || fail "rpc-error --json"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["ok"] is False and j["errors"][0]["error-tag"]
EOF
cat >"$TMP/bad.xml" <<'EOF'
<nacm xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-acm"><no-such-leaf>1</no-such-leaf></nacm>
EOF
nc edit-config --target candidate --config "$TMP/bad.xml" >/dev/null && fail "bad edit accepted"
grep -q 'rpc-error' "$TMP/stderr" || fail "bad edit: no rpc-error"
ok "rpc-error reporting"

# notifications: a config change seen by a subscriber
nc subscribe --count 1 --duration 15 >"$TMP/notif" &
SUB=$!
# The edit must come after the subscription is in place: wait for it to say so.
for _ in $(seq 1 100); do
  grep -q 'subscribed, waiting' "$TMP/stderr" && break
  kill -0 "$SUB" 2>/dev/null || break
  sleep 0.1
done
grep -q 'subscribed, waiting' "$TMP/stderr" || fail "subscription not established"
nc edit-config --target candidate --config "$TMP/edit.xml" --default-operation merge >/dev/null
nc commit >/dev/null || fail "commit for notification"
wait "$SUB" || fail "subscribe failed: $(cat "$TMP/stderr")"
grep -q '<notification' "$TMP/notif" || fail "no notification received"
ok "subscribe"

# zero trust: plaintext only to loopback
"$MAMORI" nc --transport tcp-direct --host 192.0.2.1 --port "$PORT" hello 2>"$TMP/err" \
  && fail "tcp-direct to a non-loopback address was allowed"
grep -q 'loopback only' "$TMP/err" || fail "no loopback-only message"
ok "tcp-direct refused off loopback"

echo "all netconfd interop checks passed"
