#!/usr/bin/env bash
# Interop: ncclient (Debian python3-ncclient on paramiko) runs a NETCONF session
# against mamori-netconfd over SSH (RFC 6242): get-config, lock, edit-config,
# validate, commit, create-subscription + notification, get-schema, get-data,
# NACM by SSH user; then `mamori nc --transport ssh` with known_hosts and a
# pinned fingerprint, refused keys and hosts, and continuous verification
# (a removed authorized key ends the open session).
#   usage: ncclient.sh PATH/TO/mamori PATH/TO/mamori-netconfd
# SPDX-License-Identifier: Apache-2.0
set -u
MAMORI=${1:?usage: ncclient.sh mamori mamori-netconfd}
NETCONFD=${2:?usage: ncclient.sh mamori mamori-netconfd}
HERE=$(dirname "$0")
. "$HERE/lib.sh"
PY=$(python_with ncclient) || mm_skip "python3-ncclient not installed"
[ -n "${MM_SOURCE_ROOT:-}" ] || fail "MM_SOURCE_ROOT not set (run through meson test)"
ssh_setup ncclient
ssh_start_daemon

# 1. ncclient's session script.
# ncclient with another host key must refuse to talk (the pin is really checked).
OTHER_B64=$(cut -d' ' -f2 "$TMP/stranger.pub")
"$PY" - "$PORT" "$TMP/admin" "$OTHER_B64" >"$TMP/pin.out" 2>&1 <<'PYEOF' && fail "ncclient accepted a wrong host key"
import sys
from ncclient import manager
manager.connect(host="127.0.0.1", port=int(sys.argv[1]), username="admin", key_filename=sys.argv[2],
                hostkey_verify=True, hostkey_b64=sys.argv[3], allow_agent=False, look_for_keys=False, timeout=20)
PYEOF
ok "ncclient refuses a wrong host key pin"
timeout 120 "$PY" "$HERE/ncclient_session.py" "$PORT" "$TMP/admin" "$TMP/guest" "$HOSTKEY_B64" \
  >"$TMP/ncclient.out" 2>&1 || { cat "$TMP/ncclient.out" >&2; fail "ncclient session"; }
cat "$TMP/ncclient.out"
grep -q '^ALL OK$' "$TMP/ncclient.out" || fail "ncclient script did not finish"
grep -q 'event=nc-session-start .*user=admin transport=netconf-ssh' "$TMP/daemon.log" ||
  fail "no netconf-ssh session in the log"
grep -q 'kex=curve25519-sha256' "$TMP/daemon.log" || fail "key exchange was not curve25519"

# 2. mamori nc over SSH, host key from known_hosts, then pinned by fingerprint.
nc() { "$MAMORI" nc --transport ssh --host 127.0.0.1 --port "$PORT" --rpc-timeout 20 "$@"; }
nc --user admin --key "$TMP/admin" --known-hosts "$KNOWN" -v hello >"$TMP/hello" 2>"$TMP/hello.err" ||
  fail "mamori nc hello: $(cat "$TMP/hello.err")"
grep -q '^framing: chunked$' "$TMP/hello" || fail "mamori nc: not base:1.1 chunked"
grep -q 'group curve25519-sha256' "$TMP/hello.err" || fail "mamori nc -v: kex not named"
ok "mamori nc hello over ssh (known_hosts)"
nc --user admin --key "$TMP/admin" --host-key-fingerprint "$FP" get-config --source running \
  --filter '<top xmlns="urn:mamori:test:nc"/>' | grep -q '<name>via-ssh</name>' ||
  fail "mamori nc get-config does not see ncclient's commit"
ok "mamori nc get-config over ssh (fingerprint) sees the committed data"

# 3. Refusals: a key nobody authorized, a wrong pinned fingerprint, an unknown host.
nc --user admin --key "$TMP/stranger" --host-key-fingerprint "$FP" hello 2>"$TMP/e1" &&
  fail "unauthorized key accepted"
grep -q 'public key authentication failed' "$TMP/e1" || fail "refusal reason: $(cat "$TMP/e1")"
grep -q 'event=nc-ssh-auth .*user=admin result=denied' "$TMP/daemon.log" ||
  fail "denied authentication not logged"
ok "unauthorized key refused and logged"
nc --user admin --key "$TMP/admin" --host-key-fingerprint SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA \
  hello 2>"$TMP/e2" && fail "wrong host key fingerprint accepted"
grep -q 'fingerprint mismatch' "$TMP/e2" || fail "fingerprint refusal: $(cat "$TMP/e2")"
: >"$TMP/empty_known"
nc --user admin --key "$TMP/admin" --known-hosts "$TMP/empty_known" hello 2>"$TMP/e3" &&
  fail "unknown host key accepted"
grep -q 'not in' "$TMP/e3" || fail "unknown-host refusal: $(cat "$TMP/e3")"
ok "wrong and unknown host keys refused by the client"
# Password authentication is not offered at all.
if command -v ssh >/dev/null 2>&1; then
  ssh -v -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$KNOWN" \
    -o IdentitiesOnly=yes -i "$TMP/stranger" -p "$PORT" -s admin@127.0.0.1 netconf \
    </dev/null >/dev/null 2>"$TMP/sshv" && fail "ssh with a stranger key got in"
  tr -d '\r' <"$TMP/sshv" | grep 'Authentications that can continue:' >"$TMP/methods" ||
    fail "ssh -v printed no authentication methods"
  grep -v 'can continue: publickey$' "$TMP/methods" &&
    fail "server offers more than publickey: $(cat "$TMP/methods")"
  ok "OpenSSH client: only publickey offered"
  # Authentication attempts are bounded per connection.
  IDS=()
  for i in 1 2 3 4 5 6 7 8; do
    ssh-keygen -q -t ed25519 -N '' -f "$TMP/many$i" >/dev/null
    IDS+=(-i "$TMP/many$i")
  done
  ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$KNOWN" \
    -o IdentitiesOnly=yes "${IDS[@]}" -p "$PORT" -s admin@127.0.0.1 netconf \
    </dev/null >/dev/null 2>&1 && fail "ssh with 8 unknown keys got in"
  wait_log 'event=nc-ssh-auth .*result=refused reason="too many attempts"' ||
    fail "no bound on authentication attempts"
  ok "authentication attempts bounded"
  # An authenticated user gets the netconf subsystem and nothing else.
  ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$KNOWN" \
    -o IdentitiesOnly=yes -i "$TMP/admin" -p "$PORT" -s admin@127.0.0.1 sftp \
    </dev/null >/dev/null 2>&1 && fail "sftp subsystem granted"
  wait_log 'event=nc-ssh-refuse .*user=admin subsystem=sftp' || fail "sftp refusal not logged"
  ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$KNOWN" \
    -o IdentitiesOnly=yes -i "$TMP/admin" -p "$PORT" admin@127.0.0.1 id \
    </dev/null >"$TMP/exec.out" 2>&1 && fail "exec request granted"
  grep -q 'uid=' "$TMP/exec.out" && fail "a command ran"
  ok "other subsystems and exec refused"
  # A scripted client: requests on stdin, then EOF; every reply still arrives.
  {
    printf '%s]]>]]>' '<hello xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><capabilities><capability>urn:ietf:params:netconf:base:1.0</capability></capabilities></hello>'
    for i in 1 2 3; do
      printf '<rpc message-id="%s" xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><get-config><source><running/></source></get-config></rpc>]]>]]>' "$i"
    done
  } | timeout 30 ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$KNOWN" \
    -o IdentitiesOnly=yes -i "$TMP/admin" -p "$PORT" -s admin@127.0.0.1 netconf >"$TMP/piped.out" 2>&1
  [ "$(grep -o '<rpc-reply[^>]*message-id="[123]"' "$TMP/piped.out" | wc -l)" = 3 ] ||
    fail "piped session: replies missing: $(head -c 300 "$TMP/piped.out")"
  ok "OpenSSH piped session: 3 requests then EOF, 3 replies"
fi

# 4. Continuous verification: an open session ends when its key is removed.
cat >"$TMP/hold.py" <<PYEOF
import sys, time
from ncclient import manager
m = manager.connect(host="127.0.0.1", port=$PORT, username="guest", key_filename="$TMP/guest",
                    hostkey_verify=True, hostkey_b64="$HOSTKEY_B64", allow_agent=False,
                    look_for_keys=False, timeout=30)
open("$TMP/held", "w").write(str(m.session_id))
for _ in range(300):
    if not m.connected:
        print("closed by server"); sys.exit(0)
    time.sleep(0.1)
print("still open"); sys.exit(1)
PYEOF
timeout 60 "$PY" "$TMP/hold.py" >"$TMP/hold.out" 2>&1 &
HOLD=$!
for _ in $(seq 1 200); do [ -s "$TMP/held" ] && break; sleep 0.1; done
[ -s "$TMP/held" ] || fail "guest session did not open"
: >"$KEYS/guest"
wait "$HOLD" || fail "guest session survived the removal of its key: $(cat "$TMP/hold.out")"
wait_log "event=nc-ssh-revoke .*user=guest session=$(cat "$TMP/held")" ||
  fail "no nc-ssh-revoke for guest"
ok "removed key ended its open session ($(cat "$TMP/hold.out"))"
nc --user guest --key "$TMP/guest" --host-key-fingerprint "$FP" hello 2>/dev/null &&
  fail "removed key still accepted"
ok "removed key refused for new sessions"
kill -0 "$DAEMON_PID" || fail "daemon died"
echo "PASS"
