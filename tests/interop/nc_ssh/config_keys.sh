#!/usr/bin/env bash
# SSH client authentication from the server's own configuration (issue 17):
# users and public keys live in running under ietf-netconf-server
# listen/endpoints/endpoint/ssh/ssh-server-parameters/client-authentication/users,
# not in files. The daemon runs WITHOUT the bootstrap key files, so:
#   1. a key that is only in a file is refused;
#   2. a user + key added by edit-config over TLS logs in over SSH at once
#      (mamori nc on libssh, and ncclient on paramiko), and the configured
#      user name is the NACM user (a second, non-admin user is denied writes);
#   3. a malformed key is refused by the commit with an rpc-error;
#   4. deleting the key ends the open session that used it and new logins fail;
#   5. an ssh endpoint added by edit-config is listened on at once, with its
#      own users only; deleting it closes the listener.
#   usage: config_keys.sh PATH/TO/mamori PATH/TO/mamori-netconfd
# SPDX-License-Identifier: Apache-2.0
set -u
MAMORI=${1:?usage: config_keys.sh mamori mamori-netconfd}
NETCONFD=${2:?usage: config_keys.sh mamori mamori-netconfd}
HERE=$(dirname "$0")
. "$HERE/lib.sh"
[ -n "${MM_SOURCE_ROOT:-}" ] || fail "MM_SOURCE_ROOT not set (run through meson test)"
ssh_setup cfgkeys
NO_BOOTSTRAP_KEYS=1 ssh_start_daemon
grep -q 'event=netconfd-ssh-bootstrap' "$TMP/daemon.log" && fail "bootstrap key files in use"

nc_ssh() { "$MAMORI" nc --transport ssh --host 127.0.0.1 --port "$PORT" \
  --host-key-fingerprint "$FP" --rpc-timeout 20 "$@"; }

# 1. The admin key file exists in the state dir, but files are not consulted.
nc_ssh --user admin --key "$TMP/admin" hello >/dev/null 2>"$TMP/e0" &&
  fail "a key that is only in a file was accepted"
grep -q 'public key authentication failed' "$TMP/e0" || fail "refusal: $(cat "$TMP/e0")"
ok "key files are not used without --ssh-keys-dir"

# 2. Add users over TLS: "admin" with the stranger key, "auditor" with the guest key.
NCS='urn:ietf:params:xml:ns:yang:ietf-netconf-server'
CT='urn:ietf:params:xml:ns:yang:ietf-crypto-types'
user_xml() { # NAME KEYNAME PUBFILE
  cat <<XML
<user><name>$1</name><public-keys><inline-definition><public-key><name>$2</name>
<public-key-format xmlns:ct="$CT">ct:ssh-public-key-format</public-key-format>
<public-key>$(cut -d' ' -f2 "$3")</public-key></public-key></inline-definition></public-keys></user>
XML
}
endpoint_xml() { # USERS-XML
  cat <<XML
<netconf-server xmlns="$NCS"><listen><endpoints><endpoint><name>ssh</name><ssh>
<tcp-server-parameters><local-bind><local-address>127.0.0.1</local-address>
<local-port>$PORT</local-port></local-bind></tcp-server-parameters>
<ssh-server-parameters><server-identity><host-key><name>ed25519</name><public-key>
<inline-definition><public-key-format xmlns:ct="$CT">ct:ssh-public-key-format</public-key-format>
<public-key>$HOSTKEY_B64</public-key><hidden-private-key/></inline-definition></public-key>
</host-key></server-identity>
<client-authentication><users>$1</users></client-authentication>
</ssh-server-parameters></ssh></endpoint></endpoints></listen></netconf-server>
XML
}
endpoint_xml "$(user_xml admin laptop "$TMP/stranger.pub")$(user_xml auditor ws "$TMP/guest.pub")" \
  >"$TMP/add.xml"
nc_tls_admin edit-config --target running --config "$TMP/add.xml" >"$TMP/add.out" 2>&1 ||
  fail "edit-config over TLS: $(cat "$TMP/add.out")"
wait_log 'event=netconfd-ssh-users keys=2' || fail "daemon did not load the 2 configured keys"
nc_ssh --user admin --key "$TMP/stranger" -v hello >"$TMP/h1" 2>"$TMP/h1.err" ||
  fail "configured key refused: $(cat "$TMP/h1.err")"
grep -q '^session-id: [1-9]' "$TMP/h1" || fail "no session over SSH"
ok "key added by edit-config over TLS logs in over SSH (no restart)"
nc_ssh --user auditor --key "$TMP/admin" hello >/dev/null 2>&1 &&
  fail "auditor logged in with another user's file key"
PY=$(python_with ncclient) || PY=
if [ -n "$PY" ]; then
  "$PY" - "$PORT" "$TMP/stranger" "$HOSTKEY_B64" >"$TMP/ncc.out" 2>&1 <<'PYEOF' ||
import sys
from ncclient import manager
m = manager.connect(host="127.0.0.1", port=int(sys.argv[1]), username="admin",
                    key_filename=sys.argv[2], hostkey_verify=True, hostkey_b64=sys.argv[3],
                    allow_agent=False, look_for_keys=False, timeout=20)
print("ncclient session", m.session_id)
m.close_session()
PYEOF
    fail "ncclient with the configured key: $(cat "$TMP/ncc.out")"
  ok "ncclient (paramiko) logs in with the configured key"
elif [ "${CI:-}" = true ]; then
  fail "python3-ncclient missing in CI"
fi
# The configured user name is the NACM user: auditor is not in the admin group.
echo '<top xmlns="urn:mamori:test:nc"><name>by-auditor</name></top>' >"$TMP/w.xml"
nc_ssh --user auditor --key "$TMP/guest" edit-config --target running --config "$TMP/w.xml" \
  >"$TMP/w.out" 2>&1 && fail "auditor (no NACM write rule) could write"
grep -q 'access-denied' "$TMP/w.out" || fail "auditor write: $(cat "$TMP/w.out")"
grep -q 'event=nc-session-start .*user=auditor transport=netconf-ssh' "$TMP/daemon.log" ||
  fail "the session's user is not the configured user name"
ok "configured user name is the NACM user (auditor: access-denied)"

# 3. A key that is not an SSH key: the commit is refused, nothing changes.
sed "s|<public-key>$(cut -d' ' -f2 "$TMP/guest.pub")</public-key>|<public-key>AAAAB3Nz</public-key>|" \
  "$TMP/add.xml" >"$TMP/bad.xml"
grep -q AAAAB3Nz "$TMP/bad.xml" || fail "test bug: bad key not substituted"
nc_tls_admin edit-config --target running --config "$TMP/bad.xml" >"$TMP/bad.out" 2>&1 &&
  fail "malformed public key accepted"
grep -q 'user auditor' "$TMP/bad.out" || fail "rpc-error does not name the user: $(cat "$TMP/bad.out")"
nc_ssh --user auditor --key "$TMP/guest" hello >/dev/null 2>&1 || fail "auditor lost access"
ok "malformed key refused by the commit (rpc-error), running unchanged"

# 4. Delete admin (and so its only key; a user's key list may not be empty) while a session that used it is open.
starts() { grep -c 'event=nc-session-start .*user=admin transport=netconf-ssh' "$TMP/daemon.log"; }
BEFORE=$(starts)
"$MAMORI" nc --transport ssh --host 127.0.0.1 --port "$PORT" --host-key-fingerprint "$FP" \
  --rpc-timeout 60 --user admin --key "$TMP/stranger" subscribe --duration 60 \
  >"$TMP/sub.out" 2>&1 &
SUB=$!
for _ in $(seq 1 200); do [ "$(starts)" -gt "$BEFORE" ] && break; sleep 0.1; done
[ "$(starts)" -gt "$BEFORE" ] || fail "held session did not start"
cat >"$TMP/del.xml" <<XML
<netconf-server xmlns="$NCS"><listen><endpoints><endpoint><name>ssh</name><ssh>
<ssh-server-parameters><client-authentication><users>
<user xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" nc:operation="delete"><name>admin</name></user></users>
</client-authentication></ssh-server-parameters></ssh></endpoint></endpoints></listen></netconf-server>
XML
nc_tls_admin edit-config --target running --config "$TMP/del.xml" >"$TMP/del.out" 2>&1 ||
  fail "delete over TLS: $(cat "$TMP/del.out")"
wait_log 'event=netconfd-ssh-users keys=1' || fail "daemon did not drop the key"
wait_log 'event=nc-ssh-revoke .*user=admin' || fail "open session of the removed key not ended"
for _ in $(seq 1 100); do kill -0 "$SUB" 2>/dev/null || break; sleep 0.1; done
kill -0 "$SUB" 2>/dev/null && fail "held session still running after its key was removed"
wait "$SUB"
ok "removing the key ended the open session"
nc_ssh --user admin --key "$TMP/stranger" hello >/dev/null 2>"$TMP/e4" &&
  fail "removed key still accepted"
grep -q 'public key authentication failed' "$TMP/e4" || fail "refusal: $(cat "$TMP/e4")"
nc_ssh --user auditor --key "$TMP/guest" hello >/dev/null 2>&1 || fail "other user's key lost"
ok "removed key refused for new logins; other keys unaffected"
# 5. A second ssh endpoint from running, with its own user.
ssh-keygen -q -t ed25519 -N '' -C ops@test -f "$TMP/ops" >/dev/null || fail "ssh-keygen"
PORT2=$(free_port)
endpoint_xml "$(user_xml ops k "$TMP/ops.pub")" |
  sed -e "s|<name>ssh</name>|<name>ssh2</name>|" -e "s|<local-port>$PORT</local-port>|<local-port>$PORT2</local-port>|" \
  >"$TMP/ep2.xml"
grep -q "<local-port>$PORT2</local-port>" "$TMP/ep2.xml" || fail "test bug: port not substituted"
nc_tls_admin edit-config --target running --config "$TMP/ep2.xml" >"$TMP/ep2.out" 2>&1 ||
  fail "add endpoint ssh2: $(cat "$TMP/ep2.out")"
wait_log "event=nc-ssh-listen address=127.0.0.1 port=$PORT2 .*scope=listen:ssh2" ||
  fail "no listener for the new endpoint"
"$MAMORI" nc --transport ssh --host 127.0.0.1 --port "$PORT2" --host-key-fingerprint "$FP" \
  --user ops --key "$TMP/ops" hello >/dev/null 2>"$TMP/e5" || fail "ops on ssh2: $(cat "$TMP/e5")"
nc_ssh --user ops --key "$TMP/ops" hello >/dev/null 2>&1 && fail "ssh2's user accepted on ssh"
"$MAMORI" nc --transport ssh --host 127.0.0.1 --port "$PORT2" --host-key-fingerprint "$FP" \
  --user auditor --key "$TMP/guest" hello >/dev/null 2>&1 && fail "ssh's user accepted on ssh2"
ok "ssh endpoint added by edit-config listens at once, with its own users only"
cat >"$TMP/del2.xml" <<XML
<netconf-server xmlns="$NCS"><listen><endpoints><endpoint
 xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" nc:operation="delete"><name>ssh2</name>
</endpoint></endpoints></listen></netconf-server>
XML
nc_tls_admin edit-config --target running --config "$TMP/del2.xml" >"$TMP/del2.out" 2>&1 ||
  fail "delete endpoint ssh2: $(cat "$TMP/del2.out")"
wait_log "event=nc-ssh-listen address=127.0.0.1 port=$PORT2 action=closed" ||
  fail "listener of the deleted endpoint not closed"
"$MAMORI" nc --transport ssh --host 127.0.0.1 --port "$PORT2" --host-key-fingerprint "$FP" \
  --user ops --key "$TMP/ops" hello >/dev/null 2>&1 && fail "deleted endpoint still serves"
nc_ssh --user auditor --key "$TMP/guest" hello >/dev/null 2>&1 || fail "endpoint ssh lost"
ok "deleted ssh endpoint no longer listens; the other one still serves"
kill -0 "$DAEMON_PID" || fail "daemon died"
echo PASS
