#!/bin/bash
# groups.sh - the negotiated key-exchange group, as mamori's tools report it,
# against a real mamori-netconfd serving NETCONF over TLS and over QUIC:
#  - `mamori nc -v` (TLS and QUIC) on the defaults: X25519SCloud+128, and
#    with --groups X25519MLKEM768;
#  - `mamori tls probe --quic --groups G` for every hybrid group, including
#    SecP384r1SCloud+256 (a ~19 KB ClientHello in QUIC Initial packets);
#  - `mamori tls probe --groups X25519MLKEM768` over TLS/TCP: the TLS layer
#    offers OpenSSL 3.5's ML-KEM hybrid (codepoint 0x11EC) too.
# Needs the OpenSSL QUIC backend (meson -Dquic_tls=openssl).
#
# SPDX-License-Identifier: Apache-2.0
set -u
. "$MM_SOURCE_ROOT/tests/interop/provider/lib.sh"

B=${MM_BUILD_ROOT:?MM_BUILD_ROOT not set}
MAMORI=$B/src/cli/mamori
NETCONFD=$B/src/netconf/daemon/mamori-netconfd
[ -x "$MAMORI" ] || fail "mamori not built at $MAMORI"
[ -x "$NETCONFD" ] || fail "mamori-netconfd not built at $NETCONFD"

TP=$(free_port)
QP=$(free_port)
"$NETCONFD" --state-dir "$TMP/state" --pki-dir "$TMP/pki" --address 127.0.0.1 \
    --port "$TP" --quic-port "$QP" --log-level info >"$TMP/netconfd.log" 2>&1 &
PIDS="$PIDS $!"
wait_file "$TMP/netconfd.log" netconfd-ready || fail "netconfd did not start: $(tail -5 "$TMP/netconfd.log")"
grep -q "quic_listen.*tls=openssl" "$TMP/netconfd.log" ||
    fail "netconfd's QUIC endpoint is not on the OpenSSL backend: $(grep quic "$TMP/netconfd.log")"
P=$TMP/pki
ID=(--ca "$P/ca.crt" --cert "$P/client.crt" --key "$P/client.key")

# mamori nc -v names the group on its "connected" line, for both transports.
for tr in tls quic; do
    port=$TP
    [ $tr = quic ] && port=$QP
    "$MAMORI" nc -v --transport $tr --host 127.0.0.1 --port "$port" --server-name localhost \
        "${ID[@]}" hello >"$TMP/nc-$tr.out" 2>&1 || fail "nc over $tr: $(cat "$TMP/nc-$tr.out")"
    grep -q "connected to .*, group X25519SCloud+128" "$TMP/nc-$tr.out" ||
        fail "nc over $tr did not report X25519SCloud+128: $(grep connected "$TMP/nc-$tr.out")"
    echo "ok - nc -v over $tr: X25519SCloud+128"
done

# --groups reaches both transports.
for tr in tls quic; do
    port=$TP
    [ $tr = quic ] && port=$QP
    "$MAMORI" nc -v --transport $tr --host 127.0.0.1 --port "$port" --server-name localhost \
        --groups X25519MLKEM768 "${ID[@]}" hello >"$TMP/nc-$tr-mlkem.out" 2>&1 ||
        fail "nc --groups X25519MLKEM768 over $tr: $(cat "$TMP/nc-$tr-mlkem.out")"
    grep -q "connected to .*, group X25519MLKEM768" "$TMP/nc-$tr-mlkem.out" ||
        fail "nc over $tr with --groups: $(grep connected "$TMP/nc-$tr-mlkem.out")"
    echo "ok - nc -v --groups X25519MLKEM768 over $tr"
done

# Every hybrid group over QUIC, one client group at a time.
for g in X25519SCloud+128 SecP256r1SCloud+192 SecP384r1SCloud+256 X25519MLKEM768; do
    "$MAMORI" tls probe --quic "127.0.0.1:$QP" --servername localhost --groups "$g" "${ID[@]}" \
        >"$TMP/probe-$g.out" 2>&1 || fail "QUIC probe with $g: $(cat "$TMP/probe-$g.out")"
    grep -q "^group: *$g\$" "$TMP/probe-$g.out" ||
        fail "QUIC probe with $g reported: $(grep group "$TMP/probe-$g.out")"
    grep -q "^protocol: *TLSv1.3 (QUIC v1)" "$TMP/probe-$g.out" || fail "QUIC probe: no protocol line"
    echo "ok - tls probe --quic: $g"
done

# A client offering the default list first sends an X25519 share only: HRR to a hybrid.
"$MAMORI" tls probe --quic "127.0.0.1:$QP" --servername localhost \
    --groups X25519:X25519MLKEM768 --json "${ID[@]}" >"$TMP/probe-hrr.json" 2>&1 ||
    fail "QUIC probe X25519:X25519MLKEM768: $(cat "$TMP/probe-hrr.json")"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["group"] in ("X25519MLKEM768","x25519") else 1)' \
    "$TMP/probe-hrr.json" || fail "QUIC probe JSON: $(cat "$TMP/probe-hrr.json")"
echo "ok - tls probe --quic --json"

# TLS over TCP: OpenSSL 3.5's ML-KEM hybrid is offered by the server too.
"$MAMORI" tls probe "127.0.0.1:$TP" --servername localhost --groups X25519MLKEM768 --json \
    "${ID[@]}" >"$TMP/tls-mlkem.json" 2>&1 || fail "TLS probe X25519MLKEM768: $(cat "$TMP/tls-mlkem.json")"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["group"]=="X25519MLKEM768" and d["group_id"]==0x11EC else 1)' \
    "$TMP/tls-mlkem.json" || fail "TLS probe did not negotiate X25519MLKEM768: $(cat "$TMP/tls-mlkem.json")"
echo "ok - tls probe over TCP: X25519MLKEM768 (0x11ec)"
echo "all group cases passed"
