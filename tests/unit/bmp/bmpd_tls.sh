#!/usr/bin/env bash
# mamori-bmpd's TLS listener (zero trust: address allow-list, then a client
# certificate of the PKI's CA, then optionally its identity). A router with a
# valid certificate streams BMP over TLS 1.3 (`mamori bmp replay --tls`, and
# Debian's openssl s_client piping the capture); no certificate, a
# certificate of another CA, a name outside --tls-allow-name and plaintext
# on the TLS port are refused, logged and audited, and nothing they sent is
# decoded. The plain TCP listener keeps working beside it.
# usage: bmpd_tls.sh MAMORI-BMPD MAMORI BMP-GEN
set -u
BMPD=$1 MAMORI=$2 GEN=$3
. "$MM_SOURCE_ROOT/tests/lib/skip.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/mm-bmp-tls.XXXXXX")
PID=
cleanup() { [ -n "$PID" ] && { kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; }; [ -n "${KEEP:-}" ] || rm -rf "$T"; }
trap cleanup EXIT INT TERM
fails=0
ok() { echo "ok - $1"; }
bad() { echo "FAIL - $1"; fails=$((fails + 1)); }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
wait_for() { # wait_for DESCRIPTION COMMAND (bounded poll)
  for _ in $(seq 1 200); do eval "$2" && return 0; sleep 0.05; done
  bad "timed out waiting for $1"; return 1
}
for tool in jq openssl; do command -v $tool >/dev/null || mm_skip "$tool not installed"; done

"$MAMORI" pki init --dir "$T/pki" >/dev/null || { echo "pki init failed"; exit 1; }
"$MAMORI" pki issue --client router1 --dir "$T/pki" >/dev/null || exit 1
"$MAMORI" pki issue --client intruder --dir "$T/pki" >/dev/null || exit 1
"$MAMORI" pki init --dir "$T/other" >/dev/null || exit 1 # another CA: untrusted

"$BMPD" --listen 127.0.0.1 --port 0 --port-file "$T/port" --tls-port 0 --tls-port-file "$T/tport" \
  --pki-dir "$T/pki" --tls-allow-name router1 --tls-allow-name admin --tls-allow-name shortlived --allow 127.0.0.0/24 \
  --jsonl "$T/out.jsonl" --audit "$T/audit.log" 2>"$T/bmpd.log" &
PID=$!
wait_for "the TLS port file" "[ -s '$T/tport' ]" || { cat "$T/bmpd.log"; exit 1; }
PORT=$(cat "$T/port") TPORT=$(cat "$T/tport")
"$GEN" good 20 "$T/good.bmp" || exit 1
lines() { jq -s "map(select(.bmp_router==\"$1\" and .bmp_msg_type!=\"error\")) | length" "$T/out.jsonl" 2>/dev/null || echo 0; }
N=$("$MAMORI" bmp decode "$T/good.bmp" 2>/dev/null | wc -l)

# A router with a valid certificate of the CA, identity router1 (SAN dNSName).
replay() { # replay FROM ARGS...
  local from=$1; shift
  "$MAMORI" bmp replay "$T/good.bmp" --to 127.0.0.1:$TPORT --from "$from" --linger 100 "$@" \
    >>"$T/replay.log" 2>&1
}
replay 127.0.0.2 --tls --ca "$T/pki/ca.crt" --cert "$T/pki/clients/router1.crt" \
  --key "$T/pki/clients/router1.key" || bad "replay with a valid certificate failed"
wait_for "router1's lines" "[ \"\$(lines 127.0.0.2)\" = $N ]"
check "valid certificate: $N lines decoded over TLS" "[ \"\$(lines 127.0.0.2)\" = $N ]"
check "session start names the identity" \
  "grep -q 'event=session-start router=127.0.0.2:[0-9]* mode=passive transport=tls identity=router1' '$T/bmpd.log'"
check "TLS session audited with the identity" \
  "jq -e -s 'map(select(.action==\"connect-tls\" and .decision==\"permit\" and (.reason|test(\"identity=router1\")))) | length == 1' '$T/audit.log' >/dev/null"

# Refusals: each is logged with a precise reason and audited as deny; nothing decoded.
replay 127.0.0.3 --tls --ca "$T/pki/ca.crt" --cert none
replay 127.0.0.4 --tls --ca "$T/pki/ca.crt" --cert "$T/other/client.crt" --key "$T/other/client.key"
replay 127.0.0.5 --tls --ca "$T/pki/ca.crt" --cert "$T/pki/clients/intruder.crt" \
  --key "$T/pki/clients/intruder.key"
replay 127.0.0.6 # plaintext BMP on the TLS port
wait_for "four refusals" "[ \$(grep -c 'event=connect-refused' '$T/bmpd.log') -ge 4 ]"
check "no certificate: refused (TLS handshake)" \
  "grep -q 'event=connect-refused router=127.0.0.3:[0-9]* reason=\"TLS handshake failed: peer did not return a certificate' '$T/bmpd.log'"
check "certificate of another CA: refused (TLS handshake)" \
  "grep -q 'event=connect-refused router=127.0.0.4:[0-9]* reason=\"TLS handshake failed: client certificate not trusted: unable to get local issuer certificate' '$T/bmpd.log'"
check "identity outside --tls-allow-name: refused" \
  "grep -q \"event=connect-refused router=127.0.0.5:[0-9]* reason=\\\"certificate identity 'intruder' not in the allow-list\" '$T/bmpd.log'"
check "plaintext on the TLS port: refused" \
  "grep -q 'event=connect-refused router=127.0.0.6:[0-9]* reason=\"TLS handshake failed: wrong version number' '$T/bmpd.log'"
for r in 3 4 5 6; do
  check "router 127.0.0.$r: refusal audited" \
    "jq -e -s 'map(select(.subject|test(\"^127.0.0.$r:\"))) | map(select(.action==\"connect\" and .decision==\"deny\")) | length == 1' '$T/audit.log' >/dev/null"
  check "router 127.0.0.$r: nothing decoded" "[ \"\$(lines 127.0.0.$r)\" = 0 ]"
done
check "refused sessions do not start" "! grep -q 'event=session-start router=127.0.0.[3-6]' '$T/bmpd.log'"

# A stock TLS client: Debian's openssl s_client with the admin certificate pipes the capture.
timeout 30 openssl s_client -connect 127.0.0.1:$TPORT -CAfile "$T/pki/ca.crt" -cert "$T/pki/client.crt" \
  -key "$T/pki/client.key" -verify_return_error -quiet -no_ign_eof <"$T/good.bmp" >"$T/s_client.out" 2>&1
wait_for "s_client's lines" "grep -q 'identity=admin' '$T/bmpd.log' && [ \"\$(lines 127.0.0.1)\" = $N ]"
check "openssl s_client streams BMP over TLS ($N lines, identity admin)" "[ \"\$(lines 127.0.0.1)\" = $N ]"

# Plain TCP beside it still works (routers without TLS, as FRR and GoBGP).
"$MAMORI" bmp replay "$T/good.bmp" --to 127.0.0.1:$PORT --from 127.0.0.7 --linger 100 2>/dev/null
wait_for "plain TCP lines" "[ \"\$(lines 127.0.0.7)\" = $N ]"
check "plain TCP listener unaffected" "[ \"\$(lines 127.0.0.7)\" = $N ]"

# Continuous verification: a certificate that expires during the session ends it.
mkdir -p "$T/ca/new" && : >"$T/ca/index.txt" && echo 1000 >"$T/ca/serial"
cat >"$T/ca/ca.cnf" <<CNF
[ca]
default_ca = d
[d]
database = $T/ca/index.txt
new_certs_dir = $T/ca/new
serial = $T/ca/serial
default_md = sha256
policy = p
[p]
commonName = supplied
CNF
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/ca/short.key" \
  -subj /CN=shortlived -out "$T/ca/short.csr" 2>/dev/null
openssl ca -batch -config "$T/ca/ca.cnf" -cert "$T/pki/ca.crt" -keyfile "$T/pki/ca.key" \
  -in "$T/ca/short.csr" -out "$T/ca/short.crt" -notext -startdate "$(date -u -d '-1 min' +%y%m%d%H%M%SZ)" \
  -enddate "$(date -u -d '+3 sec' +%y%m%d%H%M%SZ)" >/dev/null 2>&1 || bad "issuing a short-lived certificate"
"$MAMORI" bmp replay "$T/good.bmp" --to 127.0.0.1:$TPORT --from 127.0.0.8 --rate 5 --tls \
  --ca "$T/pki/ca.crt" --cert "$T/ca/short.crt" --key "$T/ca/short.key" >>"$T/replay.log" 2>&1
wait_for "the expiry" "grep -q 'event=session-end router=127.0.0.8:[0-9]* reason=\"client certificate expired during the session' '$T/bmpd.log'"
check "expired certificate: session started, then ended at expiry" \
  "grep -q 'event=session-start router=127.0.0.8:[0-9]* .*identity=shortlived' '$T/bmpd.log' && [ \"\$(lines 127.0.0.8)\" -gt 0 ] && [ \"\$(lines 127.0.0.8)\" -lt $N ]"
check "expiry audited" \
  "jq -e -s 'map(select((.subject|test(\"^127.0.0.8:\")) and .decision==\"deny\" and (.reason|test(\"expired\")))) | length == 1' '$T/audit.log' >/dev/null"

if [ $fails -ne 0 ]; then echo "--- bmpd.log"; tail -20 "$T/bmpd.log"; echo "--- replay.log"; cat "$T/replay.log"; echo "$fails check(s) failed"; exit 1; fi
echo "all TLS listener checks passed"
