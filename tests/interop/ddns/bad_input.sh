#!/bin/bash
# Bad input against a running mamori-ddnsd: malformed and oversized JSON,
# invalid and IDN hostnames, path tricks, slow headers and bodies, token
# guessing. Each gets a precise error, nothing else changes, and the daemon
# keeps serving.
# SPDX-License-Identifier: Apache-2.0
set -u
. "$(dirname "$0")/lib.sh"
need_prog curl
need_prog openssl
need_prog python3

T=$(seed_token)
start_ddnsd --request-timeout 2

r=$(api POST /update "{\"hostname\":\"$HOST\",\"ipv4\":\"203.0.113.9\"}")
[ "${r%% *}" = 200 ] || fail "baseline update: $r"

expect() { # expect CODE ERRCODE DESCRIPTION -- reads $r
    local st=${r%% *} body=${r#* }
    [ "$st" = "$1" ] || fail "$3: HTTP $st (wanted $1): $body"
    if [ -n "$2" ]; then
        [ "$(jget "$body" error.code)" = "$2" ] || fail "$3: $body (wanted $2)"
    fi
    ok "$3 -> $1 $2"
}

r=$(api POST /update '{"hostname":"home.example.net","ipv4":')
expect 400 invalid_json "truncated JSON"
r=$(api POST /update '[1,2,3]')
expect 400 validation_error "JSON array instead of object"
r=$(api POST /update '{"hostname":"home.example.net","hostname":"x.example.net"}')
expect 400 invalid_json "duplicate member"
r=$(api POST /update '{"hostname":"bad..name","ipv4":"203.0.113.10"}')
expect 400 invalid_hostname "empty label"
# IDN: U-labels are converted to A-labels (IDNA2008), invalid ones say why
r=$(api POST /update '{"hostname":"xn--abc-.example.net","ipv4":"203.0.113.10"}')
expect 400 invalid_hostname "invalid A-label"
case "$r" in *"invalid A-label 'xn--abc-'"*) ok "reason names the A-label" ;; *) fail "A-label reason: $r" ;; esac
r=$(api POST /update '{"hostname":"b\u00fccher_x.example.net","ipv4":"203.0.113.10"}')
expect 400 invalid_hostname "U-label with an underscore"
case "$r" in *"invalid internationalised label"*) ok "reason names the U-label" ;; *) fail "U-label reason: $r" ;; esac
r=$(api POST /update '{"hostname":"\u2603x.example.net","ipv4":"203.0.113.10"}')
expect 400 invalid_hostname "U-label with a disallowed code point (U+2603)"
TI=$(seed_token --host bücher.example.net --scopes all)
r=$(T=$TI api POST /update '{"hostname":"Bücher.example.net","ipv4":"203.0.113.10"}')
expect 200 "" "U-label update accepted"
[ "$(jget "${r#* }" data.hostname)" = xn--bcher-kva.example.net ] || fail "not stored as A-label: $r"
ok "stored and answered as xn--bcher-kva.example.net"
r=$(T=$TI api GET "/status/b%C3%BCcher.example.net")
expect 200 "" "status by percent-encoded U-label"
[ "$(jget "${r#* }" data.ipv4)" = 203.0.113.10 ] || fail "status of the U-label: $r"
r=$(api POST /update '{"hostname":"home.example.net\u0000.evil","ipv4":"203.0.113.10"}')
expect 400 invalid_json "NUL escape inside a JSON string (refused by the parser)"
r=$(api POST /update '{"hostname":"home.example.net","ipv4":"10.0.0.1"}')
expect 400 invalid_ip "private address"
r=$(api POST /update '{"hostname":"home.example.net","ipv4":"203.0.113.10","ttl":1e9}')
expect 400 invalid_ttl "float TTL"

# oversized body: the 64 KiB cap
python3 -c 'import json; print(json.dumps({"hostname":"home.example.net","pad":"x"*70000}))' > "$TMP/big.json"
r=$(curl -s --cacert "$CA" -w ' %{http_code} %{content_type}' -X POST "$B/update" \
    -H "Authorization: Bearer $T" -H 'Content-Type: application/json' --data-binary @"$TMP/big.json")
case "$r" in
    *'"code":"payload_too_large"'*' 413 application/json'*) ok "70 KB body -> 413 in the JSON envelope" ;;
    *) fail "oversized body: $r" ;;
esac

# Framing errors the HTTP layer sees are answered in the same JSON envelope,
# never as an HTML page (each line: curl or a raw request, the status, the code).
jerr() { # jerr WANT_STATUS WANT_CODE DESCRIPTION -- reads $r ("BODY STATUS CTYPE")
    case "$r" in
        *'<'[Hh][Tt][Mm][Ll]*) fail "$3: HTML answer: $r" ;;
        *"\"code\":\"$2\""*" $1 application/json"*) ok "$3 -> $1 $2 (JSON)" ;;
        *) fail "$3: $r (wanted $1 $2 in JSON)" ;;
    esac
}
r=$(curl -s --cacert "$CA" -w ' %{http_code} %{content_type}' "$B/info" \
    -H "X-Pad: $(head -c 9000 /dev/zero | tr '\0' a)")
jerr 413 payload_too_large "9 KB header section"
r=$(curl -s --cacert "$CA" -w ' %{http_code} %{content_type}' -X POST "$B/update" \
    -H "Authorization: Bearer $T" -H 'Transfer-Encoding: chunked' -d "{\"hostname\":\"$HOST\"}")
jerr 400 invalid_request "chunked body"
r=$(curl -s --cacert "$CA" -w ' %{http_code} %{content_type}' -X POST "$B/update" \
    -H "Authorization: Bearer $T" -H 'Content-Length: 5' -H 'Content-Length: 7' -d 'abcde')
jerr 400 invalid_request "conflicting Content-Length"
# raw requests over TLS: status line and body of the reply
raw() { printf "$1" | timeout 10 openssl s_client -quiet -connect "127.0.0.1:$PORT" 2>/dev/null | tr -d '\r' \
    | awk 'NR==1{st=$2} /^Content-Type:/{ct=$2} /^\{/{body=$0} END{print body, st, ct}'; }
r=$(raw 'BREW /coffee HTTP/1.1\r\nHost: x\r\n\r\n')
jerr 405 method_not_allowed "unknown method"
r=$(raw 'GET /x HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n')
jerr 400 invalid_request "obs-fold header"
r=$(raw 'GET /x HTTP/2.0\r\nHost: x\r\n\r\n')
jerr 400 invalid_request "HTTP/2.0 request line"
r=$(raw 'GET x HTTP/1.1\r\nHost: x\r\n\r\n')
jerr 400 invalid_request "target not an absolute path"
# a reply that closes the connection (HTTP/1.0) still arrives whole
r=$(curl -s --http1.0 --cacert "$CA" "$B/health")
case "$r" in *'"status":"healthy"'*) ok "HTTP/1.0 (closing) reply delivered" ;; *) fail "HTTP/1.0 health: $r" ;; esac

# HTTPS only: plaintext HTTP and TLS 1.2 get no answer
st=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT/.well-known/apertodns/v1/info")
[ "$st" = 000 ] || fail "plaintext HTTP answered with $st"
ok "plaintext HTTP refused"
st=$(curl -s --cacert "$CA" -o /dev/null -w '%{http_code}' --tls-max 1.2 "$B/info")
[ "$st" = 000 ] || fail "TLS 1.2 answered with $st"
ok "TLS 1.2 refused (TLS 1.3 only)"

# the hybrid group is negotiated with a client that offers it, X25519 otherwise
g=$("$MAMORI" tls probe "127.0.0.1:$PORT" --ca "$CA" --json)
case "$g" in *'"group":"X25519SCloud+128"'*'"protocol":"TLSv1.3"'*) ;; *) fail "hybrid probe: $g" ;; esac
g=$("$MAMORI" tls probe "127.0.0.1:$PORT" --ca "$CA" --groups X25519 --json)
case "$g" in *'"group":"x25519"'*) ;; *) fail "X25519 fallback probe: $g" ;; esac
ok "TLS 1.3 with X25519SCloud+128 (hybrid) and X25519 fallback"

# path tricks
st=$(curl -s --cacert "$CA" --path-as-is -o /dev/null -w '%{http_code}' "$B/../v1/info")
[ "$st" = 404 ] || fail "dot-dot path gave $st"
ok "/../ path -> 404"
r=$(api GET "/status/..%2f..%2fetc%2fpasswd")
expect 400 invalid_hostname "encoded slashes in {hostname}"
r=$(api GET "/status/home.example.net%00")
expect 400 invalid_hostname "encoded NUL in {hostname}"
st=$(curl -s --cacert "$CA" -o /dev/null -w '%{http_code}' "$S//nic/update")
[ "$st" = 404 ] || fail "//nic/update gave $st"
ok "//nic/update -> 404"
st=$(curl -s --cacert "$CA" -o /dev/null -w '%{http_code}' -X PUT "$B/update" -H "Authorization: Bearer $T")
[ "$st" = 405 ] || fail "PUT gave $st"
ok "PUT /update -> 405"

# slow clients: partial headers, then a body shorter than its Content-Length
slow() { # slow NAME DATA: send DATA, keep the connection open, expect the server to close it
    mkfifo "$TMP/$1.fifo"
    openssl s_client -quiet -connect "127.0.0.1:$PORT" -CAfile "$CA" < "$TMP/$1.fifo" \
        > "$TMP/$1.out" 2>&1 &
    local pid=$!
    PIDS="$PIDS $pid"
    exec 7> "$TMP/$1.fifo"
    printf "$2" >&7
    # another client is served meanwhile
    r=$(api GET /health)
    [ "${r%% *}" = 200 ] || fail "health while a slow client holds a connection: $r"
    gone() { ! kill -0 "$pid" 2>/dev/null; }
    wait_for gone || wait_for gone || fail "$1: the server did not close the slow connection"
    exec 7>&-
    ok "$1: connection closed by the server's request timeout"
}
slow headers 'GET /.well-known/apertodns/v1/info HTTP/1.1\r\nHost: x\r\n'
slow body "POST /.well-known/apertodns/v1/update HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer $T\r\nContent-Length: 100\r\n\r\n{\"hostname\""

# nothing of the above changed the record
r=$(api GET /status/$HOST)
[ "$(jget "${r#* }" data.ipv4)" = 203.0.113.9 ] || fail "record changed: $r"
ok "record unchanged after bad input"

# token guessing: 401s, then the address is locked out (429), all audited
for i in $(seq 1 50); do
    st=$(curl -s --cacert "$CA" -o /dev/null -w '%{http_code}' "$B/domains" \
        -H "Authorization: Bearer mamori_test_guess${i}AAAAAAAAAAAAAAAAAAAAAAAA")
    [ "$st" = 401 ] || fail "guess $i gave $st"
done
st=$(curl -s --cacert "$CA" -o /dev/null -w '%{http_code}' "$B/domains" -H "Authorization: Bearer $T")
[ "$st" = 429 ] || fail "after 50 failed guesses the address is not locked out ($st)"
ok "50 bad tokens -> 401 each, then lockout 429 even for a valid token"
n=$(grep -c '"action":"authenticate".*"decision":"deny"' "$STATE/audit.log")
[ "$n" -ge 51 ] || fail "only $n denied authentications audited"
ok "$n denied authentications in the audit log"
grep -q "guess" "$STATE/audit.log" && fail "a guessed token leaked into the audit log"
grep -q "$T" "$TMP"/ddnsd*.log "$STATE/audit.log" && fail "the token leaked into a log"
ok "no token text in logs"
r=$(curl -s --cacert "$CA" "$B/health")
case "$r" in *healthy*) ok "daemon still serving" ;; *) fail "health: $r" ;; esac
