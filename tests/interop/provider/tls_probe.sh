#!/bin/bash
# tls_probe.sh PROVIDER_DIR - `mamori tls probe` against Debian's
# `openssl s_server` (loading scloudplus.so): group, protocol, chain, JSON,
# verification failures, mutual TLS. The mamori binary is $MM_MAMORI, else
# $MM_BUILD_ROOT/src/cli/mamori.
#
# SPDX-License-Identifier: Apache-2.0
set -u
. "$(dirname "$0")/lib.sh"

PROVDIR=${1:?usage: $0 PROVIDER_DIR}
MAMORI=${MM_MAMORI:-${MM_BUILD_ROOT:-.}/src/cli/mamori}
need_prog openssl
[ -x "$MAMORI" ] || skip "mamori binary not built at $MAMORI"
need_loadable "$PROVDIR"
make_pki "$TMP/pki"
make_pki "$TMP/other"
P="$TMP/pki"
PROV=(-provider-path "$PROVDIR" -provider default -provider scloudplus)

# server NAME S_SERVER_ARGS...: start s_server for one connection; sets PORT.
server() {
    name=$1
    shift
    PORT=$(free_port)
    # stdin: a FIFO it holds open itself, so s_server never sees EOF (it quits on EOF).
    mkfifo "$TMP/$name.in"
    openssl s_server "${PROV[@]}" -accept "127.0.0.1:$PORT" -cert "$P/server.crt" \
        -key "$P/server.key" -tls1_3 -naccept 1 "$@" >"$TMP/$name.srv" 2>&1 0<>"$TMP/$name.in" &
    PIDS="$PIDS $!"
    wait_file "$TMP/$name.srv" ACCEPT || fail "$name: s_server did not start"
}

json_get() { # json_get FILE PYTHON_EXPR
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}

# 1. JSON report, verified, default groups.
server json -groups X25519SCloud+128:X25519
"$MAMORI" tls probe "127.0.0.1:$PORT" --ca "$P/ca.crt" --json >"$TMP/json.out" 2>"$TMP/json.err" ||
    fail "probe failed: $(cat "$TMP/json.err")"
if command -v python3 >/dev/null 2>&1; then
    [ "$(json_get "$TMP/json.out" 'd["group"]')" = "X25519SCloud+128" ] || fail "json: group"
    [ "$(json_get "$TMP/json.out" 'd["group_id"]')" = "65104" ] || fail "json: group_id"
    [ "$(json_get "$TMP/json.out" 'd["protocol"]')" = "TLSv1.3" ] || fail "json: protocol"
    [ "$(json_get "$TMP/json.out" 'd["verified"]')" = "True" ] || fail "json: verified"
    [ "$(json_get "$TMP/json.out" 'len(d["peer_chain"])')" -ge 1 ] || fail "json: chain"
    [ "$(json_get "$TMP/json.out" 'd["peer_chain"][0]["subject"]')" = "CN=localhost" ] ||
        fail "json: subject"
    [ "$(json_get "$TMP/json.out" 'd["peer_chain"][0]["issuer"]')" = "CN=test CA" ] ||
        fail "json: issuer"
    json_get "$TMP/json.out" 'd["handshake_ms"] > 0' | grep -q True || fail "json: time"
else
    grep -q '"group": *"X25519SCloud+128"' "$TMP/json.out" || fail "json: group"
fi
echo "ok - json probe: $(cat "$TMP/json.out")"

# 2. Text report, --groups, > 16 KB ClientHello, unverified (no --ca).
server text -groups SecP384r1SCloud+256
"$MAMORI" tls probe "localhost:$PORT" --groups SecP384r1SCloud+256 >"$TMP/text.out" 2>&1 ||
    fail "text probe failed: $(cat "$TMP/text.out")"
grep -q "^group: *SecP384r1SCloud+256 (0xfe52)" "$TMP/text.out" || fail "text: group"
grep -q "^verified: *no" "$TMP/text.out" || fail "text: verified should be no"
grep -q "subject: CN=localhost" "$TMP/text.out" || fail "text: chain"
echo "ok - text probe"

# 3. Wrong trust anchor: exit 1 with the reason.
server wrongca -groups X25519SCloud+128
"$MAMORI" tls probe "127.0.0.1:$PORT" --ca "$TMP/other/ca.crt" >"$TMP/wrongca.out" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "wrong CA: exit $rc, want 1"
grep -qi "verify" "$TMP/wrongca.out" || fail "wrong CA: no reason given: $(cat "$TMP/wrongca.out")"
echo "ok - wrong CA refused"

# 4. Mutual TLS: the server requires a client certificate from our CA.
server mtls -groups X25519SCloud+128 -Verify 1 -CAfile "$P/ca.crt" -verify_return_error
"$MAMORI" tls probe "127.0.0.1:$PORT" --ca "$P/ca.crt" --cert "$P/client.crt" \
    --key "$P/client.key" --servername localhost >"$TMP/mtls.out" 2>&1 ||
    fail "mtls probe failed: $(cat "$TMP/mtls.out")"
# s_server prints the peer after the probe has gone: wait for that line.
for _ in $(seq 1 50); do grep -q "subject=CN *= *admin" "$TMP/mtls.srv" && break; sleep 0.1; done
grep -q "subject=CN *= *admin" "$TMP/mtls.srv" ||
    fail "mtls: server did not see the client certificate: $(tail -5 "$TMP/mtls.srv")"
echo "ok - mutual TLS"

# 5. Usage errors exit 2; no server at all exits 1.
"$MAMORI" tls probe >/dev/null 2>&1
[ $? -eq 2 ] || fail "missing target should exit 2"
"$MAMORI" tls probe "127.0.0.1:$(free_port)" >/dev/null 2>&1
[ $? -eq 1 ] || fail "closed port should exit 1"
"$MAMORI" tls help | grep -q "probe" || fail "help"
echo "all tls probe cases passed"
