#!/usr/bin/env bash
# TLS session handling of the suite's servers (src/tls), seen through ddnsd:
# - curl --parallel shares one session cache between its transfers, so its
#   later handshakes offer a ticket from an earlier one. A server context
#   that verifies client certificates without a session id context answers
#   such a resumption with an internal_error alert (16 transfers: 13-14 of
#   them failed that way before the fix).
# - Zero trust: the servers issue no session tickets, so every connection is
#   a full handshake with a fresh certificate check (openssl s_client
#   -sess_out/-sess_in: the second connection is "New", not "Reused").
# SPDX-License-Identifier: Apache-2.0
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
need_prog curl
need_prog openssl
start_ddnsd
for _ in $(seq 1 16); do printf 'url = "%s/health"\noutput = /dev/null\n' "$B"; done >"$TMP/curl.cfg"
codes=$(curl -sS --parallel --parallel-max 8 --cacert "$CA" -K "$TMP/curl.cfg" -w '%{http_code}\n' \
    2>"$TMP/curl.err")
n200=$(printf '%s\n' "$codes" | grep -c '^200$')
[ "$n200" = 16 ] || { cat "$TMP/curl.err" >&2; fail "curl --parallel: $n200 of 16 transfers answered 200"; }
ok "curl --parallel: 16 of 16 transfers answered 200"
grep -q 'internal error' "$TMP/curl.err" && fail "an internal_error alert reached curl"

conn() { # s_client once, saving/using the session
    openssl s_client -connect "127.0.0.1:$PORT" -servername localhost -CAfile "$CA" \
        -verify_return_error "$@" </dev/null 2>&1
}
first=$(conn -sess_out "$TMP/sess.pem")
printf '%s\n' "$first" | grep -q 'Verify return code: 0' || fail "s_client: $first"
# s_client saves a TLS 1.3 session only when a ticket arrives.
if [ -s "$TMP/sess.pem" ]; then
    openssl sess_id -in "$TMP/sess.pem" -text -noout 2>/dev/null | grep -q 'TLS session ticket:' &&
        fail "the server issued a session ticket"
    second=$(conn -sess_in "$TMP/sess.pem")
    printf '%s\n' "$second" | grep -q '^Reused' && fail "the second connection resumed a session"
    printf '%s\n' "$second" | grep -q '^New, TLSv1.3' || fail "second handshake: $second"
    ok "a second connection offering the saved session gets a full handshake"
else
    ok "no session ticket issued (s_client had no session to save)"
fi
echo "all checks passed"
