#!/usr/bin/env bash
# Issue 10 #6 and #14: editing the QUIC endpoint's own configuration over a
# QUIC session. The daemon used to free its QUIC server inside the editing
# connection's callback and die (ngtcp2 assertion), with every TLS session.
# Now: the edit is answered, the editing QUIC session goes on, an open TLS
# session goes on, and the new cert-to-name entry is in force. Also: the
# sessions report their own transport in netconf-monitoring.
# usage: quic_reconfig.sh NETCONFD MAMORI NC_SESSION
NETCONFD=${1:?usage: quic_reconfig.sh NETCONFD MAMORI NC_SESSION}
MAMORI=${2:?}
NC_SESSION=${3:?}
MODULE_DIR=""
. "$(dirname "$0")/lib_transport.sh"
"$MAMORI" pki init --dir "$T/pki" >/dev/null || fail "pki init"
start_daemon_quic

NCS='urn:ietf:params:xml:ns:yang:ietf-netconf-server'
QNS='urn:ietf:params:xml:ns:yang:ietf-netconf-quic'
MNS='urn:mamori:params:xml:ns:yang:mamori-netconf-quic'
C2N='urn:ietf:params:xml:ns:yang:ietf-x509-cert-to-name'
FP="04$(printf ':%02X' $(seq 1 32))"
EDIT="<edit-config><target><running/></target><config><netconf-server xmlns=\"$NCS\"><listen><endpoints><endpoint><name>quic</name><quic xmlns=\"$QNS\"><netconf-server-parameters xmlns=\"$MNS\"><client-identity-mappings><cert-to-name><id>7</id><fingerprint>$FP</fingerprint><map-type xmlns:x=\"$C2N\">x:specified</map-type><name>nobody</name></cert-to-name></client-identity-mappings></netconf-server-parameters></quic></endpoint></endpoints></listen></netconf-server></config></edit-config>"

# A TLS session that stays open across the reconfiguration.
session tls "$T/tls.out" '<get/>' "@wait $T/go" '<get/>' '@close'
TLS_PID=$SPID
wait_for "$T/tls.out" "step 1 done" || fail "TLS session did not start: $(cat "$T/tls.out")"

# The edit, over QUIC, then more work on the same QUIC session.
session quic "$T/quic.out" "$EDIT" '<get-config><source><running/></source></get-config>' '@close'
QUIC_PID=$SPID
wait "$QUIC_PID"; QRC=$?
kill -0 "$DPID" 2>/dev/null || fail "daemon died on the QUIC edit (issue 10 #6)"
[ "$QRC" = 0 ] || fail "QUIC session: $(cat "$T/quic.out")"
[ "$(grep -c '^reply: ok' "$T/quic.out")" = 1 ] || fail "edit not ok: $(cat "$T/quic.out")"
grep -q '^reply: data' "$T/quic.out" || fail "QUIC session ended after its edit: $(cat "$T/quic.out")"
grep -q '^closed' "$T/quic.out" || fail "no close-session: $(cat "$T/quic.out")"

touch "$T/go"
wait "$TLS_PID" || fail "TLS session broken by the reconfiguration: $(cat "$T/tls.out")"
grep -q '^closed' "$T/tls.out" || fail "TLS session: $(cat "$T/tls.out")"

# The entry is in force: it is in running and the endpoint still serves.
nc_admin --transport quic --port "$QPORT" --server-name localhost get-config \
  --filter "<netconf-server xmlns=\"$NCS\"/>" > "$T/cfg.out" || fail "QUIC after the edit"
grep -q "<id>7</id>" "$T/cfg.out" || fail "cert-to-name entry 7 missing"

# netconf-monitoring names each session's transport (issue 10 #14).
nc_admin --transport quic --port "$QPORT" --server-name localhost get --filter \
  '<netconf-state xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring"><sessions/></netconf-state>' \
  > "$T/mon.xml" || fail "monitoring over QUIC"
grep -q "netconf-quic</transport>" "$T/mon.xml" || fail "QUIC session not reported as netconf-quic: $(cat "$T/mon.xml")"
nc_admin get --filter \
  '<netconf-state xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring"><sessions/></netconf-state>' \
  > "$T/mon2.xml" || fail "monitoring over TLS"
grep -q "netconf-tls</transport>" "$T/mon2.xml" || fail "TLS session not reported as netconf-tls"
finish
echo "PASS"
