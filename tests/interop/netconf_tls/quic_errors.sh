#!/usr/bin/env bash
# Issue 10 #14, NETCONF over QUIC against the daemon:
#  - malformed XML gets RFC 6241 malformed-message before the session stops
#    (draft section 9), and the connection closes with 0x01 (the server ends
#    a session it did not initiate);
#  - kill-session closes the victim's connection with 0x01;
#  - close-session ends with 0x00;
#  - the QUIC endpoint's own ca-certs are the trust anchors for its clients
#    (they were ignored: the PKI's CA was always used).
# usage: quic_errors.sh NETCONFD MAMORI NC_SESSION
NETCONFD=${1:?usage: quic_errors.sh NETCONFD MAMORI NC_SESSION}
MAMORI=${2:?}
NC_SESSION=${3:?}
MODULE_DIR=""
. "$(dirname "$0")/lib_transport.sh"
"$MAMORI" pki init --dir "$T/pki" >/dev/null || fail "pki init"
start_daemon_quic
nqc() { nc_admin --transport quic --port "$QPORT" --server-name localhost "$@"; }

# Malformed XML (an unclosed <get> inside <rpc>).
session quic "$T/bad.out" '<get>'
wait "$SPID"
grep -q '^reply: malformed-message' "$T/bad.out" || fail "no malformed-message: $(cat "$T/bad.out")"
grep -q 'closed by server: application error 0x01' "$T/bad.out" ||
  fail "malformed input: expected close with 0x01: $(cat "$T/bad.out")"
echo "ok: malformed input -> malformed-message, then 0x01"

# close-session: 0x00.
session quic "$T/close.out" '<get/>' '@close'
wait "$SPID" || fail "close-session: $(cat "$T/close.out")"
grep -q 'closed by server: application error 0x00' "$T/close.out" ||
  fail "close-session: expected 0x00: $(cat "$T/close.out")"
echo "ok: close-session -> 0x00"

# `mamori nc` ends its QUIC connection itself after close-session
# (CONNECTION_CLOSE, 0x00): the daemon sees it closed by the peer.
nqc hello > /dev/null || fail "mamori nc hello over QUIC"
wait_for "$T/daemon.log" 'event=nc_quic_closed .*reason="closed by peer" code=0' ||
  fail "the daemon never saw mamori nc's CONNECTION_CLOSE"
echo "ok: mamori nc sends CONNECTION_CLOSE"

# kill-session from another session: the victim's connection closes with 0x01.
session quic "$T/victim.out" '<get/>' "@wait $T/killed" '<get/>'
VICTIM=$SPID
wait_for "$T/victim.out" "step 1 done" || fail "victim: $(cat "$T/victim.out")"
SID=$(sed -n 's/^session-id \([0-9]*\)/\1/p' "$T/victim.out")
nc_admin --server-name localhost kill-session --session-id "$SID" > /dev/null || fail "kill-session"
touch "$T/killed"
wait "$VICTIM"
grep -q 'closed by server: application error 0x01' "$T/victim.out" ||
  fail "kill-session: expected 0x01: $(cat "$T/victim.out")"
echo "ok: kill-session -> 0x01"

# ca-certs of the QUIC endpoint: only another CA, whose clients map by CN.
"$MAMORI" pki init --dir "$T/other" >/dev/null || fail "other pki"
CMS=$(openssl crl2pkcs7 -nocrl -certfile "$T/other/ca.crt" -outform DER | base64 -w0)
FP="04$(openssl x509 -in "$T/other/ca.crt" -outform DER | sha256sum | cut -c1-64 | sed 's/../:&/g' | tr a-f A-F)"
cat > "$T/anchors.xml" <<XML
<netconf-server xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-server"
    xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0">
  <listen><endpoints><endpoint><name>quic</name>
    <quic xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-quic">
      <client-authentication><ca-certs>
        <inline-definition nc:operation="replace">
          <certificate><name>other-ca</name><cert-data>$CMS</cert-data></certificate>
        </inline-definition>
      </ca-certs></client-authentication>
      <netconf-server-parameters xmlns="urn:mamori:params:xml:ns:yang:mamori-netconf-quic">
        <client-identity-mappings><cert-to-name>
          <id>2</id><fingerprint>$FP</fingerprint>
          <map-type xmlns:x="urn:ietf:params:xml:ns:yang:ietf-x509-cert-to-name">x:common-name</map-type>
        </cert-to-name></client-identity-mappings>
      </netconf-server-parameters>
    </quic>
  </endpoint></endpoints></listen>
</netconf-server>
XML
nc_admin --server-name localhost edit-config --target running --config "$T/anchors.xml" \
  > "$T/edit.out" 2>&1 || fail "set QUIC ca-certs: $(cat "$T/edit.out")"
# Bounded poll: the reconfiguration runs right after the edit's reply.
refused=""
for _ in $(seq 1 50); do
  if ! nqc --rpc-timeout 3 get-config > /dev/null 2>&1; then refused=1; break; fi
  sleep 0.1
done
[ -n "$refused" ] || fail "QUIC still accepts the PKI's client after its CA left ca-certs"
"$MAMORI" nc --transport quic --host 127.0.0.1 --port "$QPORT" --server-name localhost \
  --ca "$T/pki/ca.crt" --cert "$T/other/client.crt" --key "$T/other/client.key" \
  --rpc-timeout 10 get-config > /dev/null || fail "QUIC refuses a client of its configured CA"
nc_admin --server-name localhost get-config > /dev/null || fail "TLS endpoint affected"
echo "ok: QUIC ca-certs honoured"
finish
echo "PASS"
