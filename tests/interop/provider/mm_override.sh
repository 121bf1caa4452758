#!/bin/bash
# mm_override.sh PROVIDER_DIR MM_TLS_SERVER - a mamori TLS server (mm_tls, the
# built-in provider) and Debian's `openssl s_client` (scloudplus.so) agree on
# an overridden codepoint, whether the override comes from the provider
# section of OPENSSL_CONF or from mamori's own option; a disagreement between
# the two, or a refused codepoint, stops the mamori server with the reason.
#
# SPDX-License-Identifier: Apache-2.0
set -u
. "$(dirname "$0")/lib.sh"

PROVDIR=${1:?usage: $0 PROVIDER_DIR MM_TLS_SERVER}
SERVER=${2:?usage: $0 PROVIDER_DIR MM_TLS_SERVER}
need_prog openssl
need_loadable "$PROVDIR"
make_pki "$TMP/pki"
P="$TMP/pki"

# run NAME SERVER_CNF CLIENT_CNF WANT_DEC [SERVER ARGS...]: mamori server
# under SERVER_CNF (empty: none), s_client under CLIENT_CNF; both must see
# codepoint WANT_DEC.
run() {
    name=$1 scnf=$2 ccnf=$3 want=$4
    shift 4
    PORT=$(free_port)
    env ${scnf:+OPENSSL_CONF="$scnf"} "$SERVER" "$PORT" "$P/server.crt" "$P/server.key" \
        "$P/ca.crt" --groups X25519SCloud+128 "$@" >"$TMP/$name.srv" 2>&1 &
    spid=$!
    PIDS="$PIDS $spid"
    wait_file "$TMP/$name.srv" listening || fail "$name: server did not start: $(cat "$TMP/$name.srv")"
    env ${ccnf:+OPENSSL_CONF="$ccnf"} timeout 20 openssl s_client -connect "127.0.0.1:$PORT" \
        -tls1_3 -groups X25519SCloud+128 -trace </dev/null >"$TMP/$name.cli" 2>&1
    got=$(server_hello_group "$TMP/$name.cli")
    [ "$got" = "$want" ] || fail "$name: s_client saw group '$got', want $want: $(tail -3 "$TMP/$name.cli")"
    wait "$spid" || fail "$name: mamori server failed: $(cat "$TMP/$name.srv")"
    hex=$(printf '0x%04x' "$want")
    grep -q "^group $hex" "$TMP/$name.srv" || fail "$name: server says $(cat "$TMP/$name.srv")"
    echo "ok - $name: both ends on $hex"
}

write_cnf "$TMP/o60.cnf" "$PROVDIR" "x25519_scloudplus128_codepoint = 0xFE60"
write_cnf "$TMP/plain.cnf" "$PROVDIR"

# 1. the override in OPENSSL_CONF, read by both
run cnf "$TMP/o60.cnf" "$TMP/o60.cnf" 65120
# 2. the override as a mamori option (no cnf on the server side)
run option "" "$TMP/o60.cnf" 65120 --option x25519_scloudplus128_codepoint=0xFE60
# 3. no override anywhere: the default codepoint
run default "$TMP/plain.cnf" "$TMP/plain.cnf" 65104

# 4. mamori's option and OPENSSL_CONF disagree: the server refuses to start
PORT=$(free_port)
OPENSSL_CONF="$TMP/o60.cnf" "$SERVER" "$PORT" "$P/server.crt" "$P/server.key" "$P/ca.crt" \
    --option x25519_scloudplus128_codepoint=0xFE61 >"$TMP/dis.srv" 2>&1 &&
    fail "disagreement: server started"
grep -q 'key=x25519_scloudplus128_codepoint mamori="0xFE61" openssl_conf="0xFE60"' \
    "$TMP/dis.srv" || fail "disagreement: no reason given: $(cat "$TMP/dis.srv")"
echo "ok - disagreement refused: $(grep -m1 scloudplus-option "$TMP/dis.srv" | cut -c1-150)"

# 5b. the override through the environment the supervisor gives daemons
PORT=$(free_port)
MM_SCLOUDPLUS_OPTIONS="x25519_scloudplus128_codepoint=65120" "$SERVER" "$PORT" \
    "$P/server.crt" "$P/server.key" "$P/ca.crt" --groups X25519SCloud+128 >"$TMP/env.srv" 2>&1 &
spid=$!
PIDS="$PIDS $spid"
wait_file "$TMP/env.srv" listening || fail "env: server did not start: $(cat "$TMP/env.srv")"
OPENSSL_CONF="$TMP/o60.cnf" timeout 20 openssl s_client -connect "127.0.0.1:$PORT" -tls1_3 \
    -groups X25519SCloud+128 -trace </dev/null >"$TMP/env.cli" 2>&1
[ "$(server_hello_group "$TMP/env.cli")" = 65120 ] || fail "env: s_client did not get 0xfe60"
wait "$spid" || fail "env: server failed: $(cat "$TMP/env.srv")"
grep -q "^group 0xfe60" "$TMP/env.srv" || fail "env: server says $(cat "$TMP/env.srv")"
echo "ok - MM_SCLOUDPLUS_OPTIONS: both ends on 0xfe60"

# 5c. mamori's own configuration: `mamori up` with suite/scloudplus runs the
# server as a daemon; the supervisor hands the option down.
MAMORI=${MM_MAMORI:-${MM_BUILD_ROOT:-.}/src/cli/mamori}
if [ -x "$MAMORI" ]; then
    PORT=$(free_port)
    cat >"$TMP/suite.json" <<JSON
{ "mamori-suite:suite": { "state-dir": "$TMP/state",
  "scloudplus": { "x25519-scloudplus128-codepoint": 65120 },
  "daemon": [ { "name": "tls", "program": "$SERVER",
    "argument": ["$PORT", "$P/server.crt", "$P/server.key", "$P/ca.crt", "--groups", "X25519SCloud+128"] } ] } }
JSON
    OPENSSL_CONF="$TMP/plain.cnf" "$MAMORI" up --config "$TMP/suite.json" >"$TMP/up.out" 2>"$TMP/up.log" &
    sup=$!
    PIDS="$PIDS $sup"
    wait_file "$TMP/up.out" listening || fail "mamori up: daemon did not start: $(tail -5 "$TMP/up.log")"
    OPENSSL_CONF="$TMP/o60.cnf" timeout 20 openssl s_client -connect "127.0.0.1:$PORT" -tls1_3 \
        -groups X25519SCloud+128 -trace </dev/null >"$TMP/up.cli" 2>&1
    [ "$(server_hello_group "$TMP/up.cli")" = 65120 ] ||
        fail "mamori up: s_client did not get 0xfe60: $(tail -3 "$TMP/up.cli")"
    wait_file "$TMP/up.out" "^group 0xfe60" || fail "mamori up: daemon says $(cat "$TMP/up.out")"
    kill "$sup"
    echo "ok - mamori config suite/scloudplus: daemon and s_client on 0xfe60"
else
    echo "note: no mamori binary at $MAMORI; the mamori-config case did not run"
    [ "${CI:-}" = true ] && fail "mamori binary missing under CI"
fi

# 6. a refused codepoint (x25519's) stops the mamori server with the reason
write_cnf "$TMP/o29.cnf" "$PROVDIR" "x25519_scloudplus128_codepoint = 29"
OPENSSL_CONF="$TMP/o29.cnf" "$SERVER" "$PORT" "$P/server.crt" "$P/server.key" "$P/ca.crt" \
    >"$TMP/o29.srv" 2>&1 && fail "codepoint 29: server started"
grep -q "x25519_scloudplus128_codepoint = 29 is the codepoint of x25519" "$TMP/o29.srv" ||
    fail "codepoint 29: no reason given: $(cat "$TMP/o29.srv")"
echo "ok - codepoint 29 refused by the mamori server"
