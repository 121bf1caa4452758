#!/bin/bash
# X-Forwarded-For: believed only from --trusted-proxy addresses (default
# none), then used for "auto" address detection and for rate limiting.
# SPDX-License-Identifier: Apache-2.0
set -u
. "$(dirname "$0")/lib.sh"
need_prog curl
need_prog python3

T=$(seed_token)
export T

# upd XFF: an "auto" update sent with that X-Forwarded-For; prints "STATUS BODY".
upd() {
    local bf
    bf=$(mktemp "$TMP/body.XXXXXX")
    curl -s --cacert "$CA" -o "$bf" -w '%{http_code}' -X POST "$B/update" \
        -H "Authorization: Bearer $1" -H 'Content-Type: application/json' \
        -H "X-Forwarded-For: $2" -d "{\"hostname\":\"$HOST\",\"ipv4\":\"auto\"}"
    printf ' '
    cat "$bf"
    rm -f "$bf"
}

# 1. No trusted proxy (the default): the header is ignored, auto is the socket
#    peer (loopback, which test mode maps to 203.0.113.1).
start_ddnsd
r=$(upd "$T" 203.0.113.7)
case "$r" in
    "200 "*'"ipv4":"203.0.113.1"'*) ok "untrusted X-Forwarded-For ignored" ;;
    *) fail "default config believed X-Forwarded-For: $r" ;;
esac
stop_ddnsd

# 2. The loopback proxy is trusted: auto is the client it reports.
start_ddnsd --trusted-proxy 127.0.0.1 --trusted-proxy 10.0.0.0/8
r=$(upd "$T" 203.0.113.7)
case "$r" in
    "200 "*'"ipv4":"203.0.113.7"'*) ok "auto from a trusted proxy's X-Forwarded-For" ;;
    *) fail "trusted X-Forwarded-For not used: $r" ;;
esac
# the client wrote the leftmost entry itself; the rightmost untrusted one counts
r=$(upd "$T" "198.51.100.66, 203.0.113.8, 10.1.2.3")
case "$r" in
    "200 "*'"ipv4":"203.0.113.8"'*) ok "rightmost untrusted hop is the client" ;;
    *) fail "wrong hop chosen: $r" ;;
esac
# a name instead of an address: no usable client, so the request is refused
# (the proxy's own address must not stand in for it) and the refusal audited
r=$(upd "$T" "203.0.113.9, not-an-address")
case "$r" in
    "400 "*'"invalid_request"'*) ok "malformed X-Forwarded-For refused (400)" ;;
    *) fail "malformed X-Forwarded-For: $r" ;;
esac
grep -q 'unusable X-Forwarded-For' "$STATE/audit.log" || fail "refusal not audited"
ok "refusal audited"
# over the length bound: refused likewise
long=$(python3 -c 'print(", ".join("198.51.100.%d" % (i % 250) for i in range(120)))')
r=$(upd "$T" "$long")
case "$r" in
    "400 "*) ok "over-long X-Forwarded-For refused (400)" ;;
    *) fail "over-long X-Forwarded-For: $r" ;;
esac
# two header lines (a proxy that adds its own line after the client's): one
# list; the proxy's line is the right end, the client's own line cannot win
bf=$(mktemp "$TMP/body.XXXXXX")
code=$(curl -s --cacert "$CA" -o "$bf" -w '%{http_code}' -X POST "$B/update" \
    -H "Authorization: Bearer $T" -H 'Content-Type: application/json' \
    -H 'X-Forwarded-For: 198.51.100.99' -H 'X-Forwarded-For: 203.0.113.12' \
    -d "{\"hostname\":\"$HOST\",\"ipv4\":\"auto\"}")
case "$code $(cat "$bf")" in
    "200 "*'"ipv4":"203.0.113.12"'*) ok "repeated X-Forwarded-For lines read as one list" ;;
    *) fail "repeated X-Forwarded-For lines: $code $(cat "$bf")" ;;
esac

# 3. Rate limiting is per client behind the proxy: lock out 203.0.113.20 with
#    bad tokens (test mode allows 50 failures), 203.0.113.21 is unaffected.
urls=()
for _ in $(seq 1 55); do urls+=("$B/domains"); done
curl -s --cacert "$CA" -w '\n%{http_code}\n' -H 'Authorization: Bearer adns_test_bad' \
    -H 'X-Forwarded-For: 203.0.113.20' "${urls[@]}" > "$TMP/codes"
grep -q '^429$' "$TMP/codes" || fail "no lockout after 55 bad tokens: $(grep -c '^401$' "$TMP/codes") x 401"
r=$(upd "$T" 203.0.113.20)
case "$r" in
    "429 "*) ok "locked-out client refused even with a good token" ;;
    *) fail "lockout not keyed by the forwarded client: $r" ;;
esac
r=$(upd "$T" 203.0.113.21)
case "$r" in
    "200 "*'"ipv4":"203.0.113.21"'*) ok "another client behind the same proxy unaffected" ;;
    *) fail "other client hit by the lockout: $r" ;;
esac
grep -q '203.0.113.20' "$STATE/audit.log" || fail "audit does not name the forwarded client"
ok "audit names the forwarded client"
echo "xff: all checks passed"
