#!/usr/bin/env bash
# Issue 10 #5, self-lockout:
#  1. edit-config --default-operation replace with a running that lacks the
#     server's listen endpoints is refused (rpc-error naming the path) and
#     not applied; the daemon keeps listening.
#  2. A running without a TLS endpoint (here: the TLS endpoint removed over
#     QUIC, which is allowed while the QUIC endpoint remains) no longer
#     stops a restart: the daemon comes up on --address/--port with a loud
#     log line, and the PKI's admin can connect over TLS.
# usage: self_lockout.sh NETCONFD MAMORI NC_SESSION
NETCONFD=${1:?usage: self_lockout.sh NETCONFD MAMORI NC_SESSION}
MAMORI=${2:?}
NC_SESSION=${3:?}
MODULE_DIR=""
. "$(dirname "$0")/lib_transport.sh"
"$MAMORI" pki init --dir "$T/pki" >/dev/null || fail "pki init"
start_daemon_quic

NCS='urn:ietf:params:xml:ns:yang:ietf-netconf-server'
cat > "$T/nacm-only.xml" <<XML
<nacm xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-acm">
  <groups><group><name>admin</name><user-name>admin</user-name></group></groups>
  <rule-list><name>admin</name><group>admin</group>
    <rule><name>permit-all</name><module-name>*</module-name>
      <access-operations>*</access-operations><action>permit</action></rule>
  </rule-list>
</nacm>
XML
# 1. Refused, with the path, over a real session.
nc_admin --server-name localhost edit-config --target running --default-operation replace \
  --config "$T/nacm-only.xml" > "$T/edit.out" 2>&1 && fail "replace without endpoints accepted"
grep -q "operation-failed" "$T/edit.out" || fail "no operation-failed: $(cat "$T/edit.out")"
grep -q "path: *$(printf '%s' "/ietf-netconf-server:netconf-server/listen/endpoints")" "$T/edit.out" ||
  fail "rpc-error does not name the path: $(cat "$T/edit.out")"
nc_admin --server-name localhost get-config --filter "<netconf-server xmlns=\"$NCS\"/>" \
  > "$T/cfg.out" || fail "daemon unreachable after the refused edit"
grep -q "<name>default</name>" "$T/cfg.out" || fail "the TLS endpoint was deleted"
echo "ok: replace without listen endpoints refused"

# 2. Remove the TLS endpoint over QUIC (a QUIC endpoint remains: allowed).
DEL="<edit-config><target><running/></target><config><netconf-server xmlns=\"$NCS\"><listen><endpoints><endpoint xmlns:nc=\"urn:ietf:params:xml:ns:netconf:base:1.0\" nc:operation=\"delete\"><name>default</name></endpoint></endpoints></listen></netconf-server></config></edit-config>"
session quic "$T/del.out" "$DEL" '@close'
wait "$SPID" || fail "QUIC session: $(cat "$T/del.out")"
grep -q '^reply: ok' "$T/del.out" || fail "delete of the TLS endpoint: $(cat "$T/del.out")"
stop_daemon
start_daemon --quic-port "$QPORT"
grep -q "event=netconfd-listen.*running has no TLS endpoint.*fallback" "$T/daemon.log" ||
  fail "no loud log line for the fallback endpoint"
nc_admin --server-name localhost get-config > /dev/null || fail "admin cannot connect after restart"
echo "ok: restart without a TLS endpoint in running comes up on --address/--port"
finish
echo "PASS"
