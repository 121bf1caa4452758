#!/bin/bash
# The `mamori ddns` client against mamori-ddnsd: every verb over HTTPS with
# the mamori TLS layer (server verified against the ddnsd CA), JSON output,
# and retries with backoff when the server cannot be reached.
# SPDX-License-Identifier: Apache-2.0
set -u
. "$(dirname "$0")/lib.sh"
need_prog python3

T=$(seed_token)
start_ddnsd
export APERTODNS_URL="$S" APERTODNS_TOKEN="$T"
m() { "$MAMORI" ddns "$@" --ca "$CA" --json; }

out=$(m info) || fail "info: $out"
[ "$(jget "$out" data.protocol)" = apertodns ] || fail "info: $out"
out=$(m update "$HOST" --ipv4 203.0.113.70 --ipv6 2001:db8::70 --ttl 120) || fail "update: $out"
[ "$(jget "$out" data.ipv4)" = 203.0.113.70 ] && [ "$(jget "$out" data.ttl)" = 120 ] || fail "update: $out"
out=$(m update "$HOST" --ipv4 null) || fail "update null: $out"
[ "$(jget "$out" data.ipv4)" = null ] && [ "$(jget "$out" data.ipv6)" = 2001:db8::70 ] || fail "null: $out"
out=$(m bulk-update "$HOST" --ipv4 auto) || fail "bulk: $out"
[ "$(jget "$out" data.summary.successful)" = 1 ] || fail "bulk: $out"
out=$(m status "$HOST") || fail "status: $out"
[ "$(jget "$out" data.ipv4)" = 203.0.113.1 ] || fail "status after auto: $out"
out=$(m domains) || fail "domains: $out"
[ "$(jget "$out" data.0.hostname)" = "$HOST" ] || fail "domains: $out"
out=$(m txt set "_acme-challenge.$HOST" tok-a) || fail "txt set: $out"
out=$(m txt set "_acme-challenge.$HOST" tok-b) || fail "txt set: $out"
[ "$(jget "$out" data.record_count)" = 2 ] || fail "txt set: $out"
out=$(m txt get "_acme-challenge.$HOST") || fail "txt get: $out"
[ "$(jget "$out" data.values.1)" = tok-b ] || fail "txt get: $out"
out=$(m txt delete "_acme-challenge.$HOST" tok-a) || fail "txt delete: $out"
[ "$(jget "$out" data.remaining_count)" = 1 ] || fail "txt delete: $out"
ok "info, update, null, bulk-update auto, status, domains, txt set/get/delete"

# errors: exit 1 with the server's error code
out=$(m update "$HOST" --ipv4 10.0.0.1); rc=$?
[ $rc = 1 ] && [ "$(jget "$out" error.code)" = invalid_ip ] || fail "error exit: rc=$rc $out"
"$MAMORI" ddns update "$HOST" --ipv4 10.0.0.1 --ca "$CA" 2>"$TMP/err.txt" && fail "table mode accepted an error"
grep -q "invalid_ip" "$TMP/err.txt" || fail "table-mode error text: $(cat "$TMP/err.txt")"
ok "errors exit 1 with the server's code"

# a wrong CA: the TLS handshake fails, nothing is sent
"$MAMORI" ddns info --ca "$STATE/pki/client.crt" --retries 0 >/dev/null 2>"$TMP/tls.txt" \
    && fail "connected to a server the CA does not vouch for"
ok "server not verified by the given CA: refused"

# unreachable server: retries with backoff, then exit 1
stop_ddnsd
"$MAMORI" ddns info --ca "$CA" --retries 2 >/dev/null 2>"$TMP/retry.txt" && fail "no server yet success"
n=$(grep -c "retrying in" "$TMP/retry.txt")
[ "$n" = 2 ] || fail "expected 2 retries, saw $n: $(cat "$TMP/retry.txt")"
ok "unreachable server: 2 retries with backoff, then exit 1"
