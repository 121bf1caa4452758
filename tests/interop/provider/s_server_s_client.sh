#!/bin/bash
# s_server_s_client.sh PROVIDER_DIR - the scloudplus groups between Debian's
# `openssl s_server` and `openssl s_client`, loaded by -provider and by an
# openssl.cnf; checks the group named in the ServerHello key_share.
#
# SPDX-License-Identifier: Apache-2.0
set -u
. "$(dirname "$0")/lib.sh"

PROVDIR=${1:?usage: $0 PROVIDER_DIR}
need_prog openssl
need_loadable "$PROVDIR"
make_cert

PROV=(-provider-path "$PROVDIR" -provider default -provider scloudplus)

# run_pair NAME EXPECTED_GROUP_DECIMAL SERVER_ARGS... -- CLIENT_ARGS...
# S_CONF / C_CONF: OPENSSL_CONF of the server / client (empty: none).
S_CONF="" C_CONF=""
run_pair() {
    name=$1 want=$2
    shift 2
    sargs=() cargs=()
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do
        sargs+=("$1")
        shift
    done
    shift
    cargs=("$@")
    port=$(free_port)
    env ${S_CONF:+OPENSSL_CONF="$S_CONF"} openssl s_server "${sargs[@]}" \
        -accept "127.0.0.1:$port" -cert "$TMP/server.crt" -key "$TMP/server.key" \
        -tls1_3 -naccept 1 -www >"$TMP/$name.srv" 2>&1 &
    spid=$!
    PIDS="$PIDS $spid"
    wait_file "$TMP/$name.srv" ACCEPT ||
        fail "$name: s_server did not start: $(cat "$TMP/$name.srv")"
    printf 'GET / HTTP/1.0\r\n\r\n' | env ${C_CONF:+OPENSSL_CONF="$C_CONF"} \
        timeout 20 openssl s_client "${cargs[@]}" \
        -connect "127.0.0.1:$port" -servername localhost -CAfile "$TMP/server.crt" \
        -trace -ign_eof >"$TMP/$name.cli" 2>&1
    wait "$spid" 2>/dev/null
    got=$(server_hello_group "$TMP/$name.cli")
    grep -q "Verify return code: 0 (ok)" "$TMP/$name.cli" ||
        fail "$name: certificate not verified / handshake failed:
$(grep -iE 'error|alert|verify' "$TMP/$name.cli" | head -5) $(tail -3 "$TMP/$name.srv")"
    grep -q "HTTP/1.0 200 ok" "$TMP/$name.cli" || fail "$name: no application data exchanged"
    [ "$got" = "$want" ] || fail "$name: ServerHello group '$got', want $want"
    echo "ok - $name: group $want"
}

# 1. Each group by -provider, client preferring the hybrid, X25519 as fallback.
run_pair x25519-128 65104 "${PROV[@]}" -groups X25519SCloud+128:X25519 -- \
    "${PROV[@]}" -groups X25519SCloud+128:X25519
run_pair p256-192 65105 "${PROV[@]}" -groups SecP256r1SCloud+192:X25519 -- \
    "${PROV[@]}" -groups SecP256r1SCloud+192:X25519
# > 16 KB ClientHello (18857-byte share) and ServerHello: records are fragmented.
run_pair p384-256 65106 "${PROV[@]}" -groups SecP384r1SCloud+256:X25519 -- \
    "${PROV[@]}" -groups SecP384r1SCloud+256:X25519
grep -q "ClientHello, Length=1[89][0-9][0-9][0-9]" "$TMP/p384-256.cli" ||
    fail "p384-256: expected a ClientHello over 18000 bytes"
for lvl in 128 192 256; do
    run_pair "pure-$lvl" $((65107 + (lvl - 128) / 64)) "${PROV[@]}" -groups "scloudplus$lvl" -- \
        "${PROV[@]}" -groups "scloudplus$lvl"
done

# 2. Client offers a share for X25519 only; the server wants the hybrid: HelloRetryRequest.
run_pair hrr 65104 "${PROV[@]}" -groups X25519SCloud+128 -- \
    "${PROV[@]}" -groups X25519:X25519SCloud+128

# 3. Through openssl.cnf (OPENSSL_CONF), groups set in the cnf's system_default section.
write_cnf "$TMP/openssl.cnf" "$PROVDIR"
echo "Groups = X25519SCloud+128:X25519" >>"$TMP/openssl.cnf"
S_CONF="$TMP/openssl.cnf" C_CONF="$TMP/openssl.cnf"
run_pair cnf 65104 --

# 4. Codepoint override in the provider section: both sides move to 0xFE60.
write_cnf "$TMP/override.cnf" "$PROVDIR" "x25519_scloudplus128_codepoint = 0xFE60"
S_CONF="$TMP/override.cnf" C_CONF="$TMP/override.cnf"
run_pair override 65120 -groups X25519SCloud+128:X25519 -- -groups X25519SCloud+128:X25519

# 5. Server overridden, client on the default codepoint: no common hybrid, so
#    the client's X25519 (29) is chosen.
S_CONF="$TMP/override.cnf" C_CONF=""
run_pair mismatch 29 -groups X25519SCloud+128:X25519 -- "${PROV[@]}" -groups X25519SCloud+128:X25519
echo "all s_server/s_client cases passed"
