#!/bin/bash
# mamori-dkimd driven by miltertest (opendkim-tools) through whole SMTP transactions:
#  1. an internal client's mail is signed (rsa-sha256 + ed25519-sha256, ACDC instance 1 binding
#     the envelope); the signed message verifies with mamori, OpenDKIM and dkimpy;
#  2. the same message from an external client gets Authentication-Results dkim=pass and
#     x-acdc=pass for its envelope; a replay to another recipient and a tampered body do not pass;
#  3. DNS failure policy: a resolver that never answers -> tempfail (policy tempfail) or
#     dkim=temperror (policy accept);
#  4. a key file readable by others is refused at start; every decision is in the audit log.
# usage: milter.sh MAMORI MAMORI-DKIMD
# SPDX-License-Identifier: Apache-2.0
set -u
source "$(dirname "$0")/lib.sh"
M=$(realpath "${1:?usage: milter.sh MAMORI MAMORI-DKIMD}")
D=$(realpath "${2:?usage: milter.sh MAMORI MAMORI-DKIMD}")
need_prog miltertest
need_prog opendkim
need_dkimpy
cd "$TMP" || fail "no temp dir"

txt_of() { sed -e 's/.*( //' -e 's/ )$//' -e 's/" "//g' -e 's/"//g'; }
"$M" dkim keygen --type rsa --out rsa.pem --domain example.test --selector mr > rsa.zone || fail keygen
"$M" dkim keygen --type ed25519 --out ed.pem --domain example.test --selector me > ed.zone || fail keygen
{
    echo "mr._domainkey.example.test $(txt_of < rsa.zone)"
    echo "me._domainkey.example.test $(txt_of < ed.zone)"
} > keys.txt

# config NAME KEYS-JSON DNS-FAILURE KEYFILE [EXTRA-JSON]
config() {
    cat > "$1.json" <<EOC
{"mamori-dkim:dkim": {
  "socket": "unix:$TMP/$1.sock",
  "authserv-id": "mx.example.net",
  "audit-log": "$TMP/$1-audit.log",
  "keys": $2,
  "dns-failure": "$3",
  "internal-client": ["127.0.0.1"],${5:-}
  "signing-key": [
    {"domain": "example.test", "selector": "mr", "key-file": "$TMP/${4:-rsa.pem}"},
    {"domain": "example.test", "selector": "me", "key-file": "$TMP/ed.pem"}
  ]
}}
EOC
}

# start NAME [ARGS]: run the daemon, wait (bounded) for its socket
start() {
    "$D" -c "$1.json" -l debug ${2:-} > "$1.log" 2>&1 &
    PIDS="$PIDS $!"
    for _ in $(seq 1 100); do
        [ -S "$1.sock" ] && return 0
        kill -0 "$!" 2>/dev/null || { cat "$1.log"; fail "mamori-dkimd ($1) exited"; }
        read -r -t 0.1 < /dev/zero 2>/dev/null || true
    done
    fail "mamori-dkimd ($1) socket did not appear"
}

# lua NAME IP MAILFROM RCPT HEADERS-FILE BODY-FILE: one transaction; writes NAME.out with
# "reply=<code>" and every inserted header as "H <name>: <value>"
lua() {
    cat > "$1.lua" <<EOL
local conn = mt.connect("unix:$TMP/$6.sock", 40, 0.05)
if conn == nil then error("connect failed") end
mt.set_timeout(10)
if mt.conninfo(conn, "client.example", "$2") ~= nil then error("conninfo") end
if mt.macro(conn, SMFIC_MAIL, "i", "Q$1") ~= nil then error("macro") end
if mt.mailfrom(conn, "$3") ~= nil then error("mailfrom") end
for r in string.gmatch("$4", "[^,]+") do
  if mt.rcptto(conn, r) ~= nil then error("rcptto") end
end
for line in io.lines("$TMP/$5.hdrs") do
  local n, v = string.match(line, "^([^:]+):%s?(.*)$")
  if mt.header(conn, n, (string.gsub(v, "\\\\n", "\n"))) ~= nil then error("header " .. n) end
end
if mt.eoh(conn) ~= nil then error("eoh") end
local f = io.open("$TMP/$5.body", "rb"); local body = f:read("*a"); f:close()
if mt.bodystring(conn, body) ~= nil then error("body") end
if mt.eom(conn) ~= nil then error("eom") end
local out = io.open("$TMP/$1.out", "w")
local r = mt.getreply(conn)
-- a tempfail with smfi_setreply arrives as a reply code (451 4.7.1 ...)
if r == SMFIR_TEMPFAIL or r == SMFIR_REPLYCODE then out:write("reply=tempfail\n")
elseif r == SMFIR_ACCEPT or r == SMFIR_CONTINUE then out:write("reply=accept\n")
else out:write("reply=other " .. tostring(r) .. "\n") end
-- ACDC-Diff: the provisional field name of src/dkim/acdc_names.c
for _, h in ipairs({"DKIM-Signature", "Authentication-Results", "ACDC-Diff"}) do
  for i = 0, 3 do
    if mt.eom_check(conn, MT_HDRINSERT, h) then
      local v = mt.getheader(conn, h, i)
      if v == nil then break end
      out:write("H " .. h .. ": " .. (string.gsub(v, "\n", "\\\\n")) .. "\n")
    end
  end
end
if mt.eom_check(conn, MT_HDRCHANGE, "Subject") then out:write("subject-changed\n") end
if mt.eom_check(conn, MT_BODYCHANGE) then out:write("body-changed\n") end
out:close()
mt.disconnect(conn)
EOL
    miltertest -s "$1.lua" > "$1.mt.log" 2>&1 || { cat "$1.mt.log"; fail "miltertest $1"; }
    [ -f "$1.out" ] || fail "no output from $1"
}

# The message as the MTA hands it to the milter: one "Name: value" per line (\n = fold).
cat > m.hdrs <<'EOF2'
From: Alice <alice@example.test>
To: Bob <bob@example.net>
Subject: milter test
Date: Wed, 31 Dec 2025 12:00:00 +0000
Message-ID: <milter1@example.test>
EOF2
printf 'Hello Bob,\r\nsigned by the milter.\r\n' > m.body

config sd '{"key-file": "'"$TMP"'/keys.txt"}' tempfail
if [ "$(id -u)" = 0 ] && id nobody > /dev/null 2>&1; then
    # as root: the daemon opens socket, keys and audit log, then runs as nobody
    chmod 755 "$TMP"
    start sd "-u nobody"
    grep -q "uid=$(id -u nobody)" sd.log || fail "privileges not dropped: $(cat sd.log)"
    DROPPED=1
else
    start sd
fi
lua sign 127.0.0.1 '<alice@example.test>' '<bob@example.net>' m sd
grep -q '^reply=accept' sign.out || fail "signing transaction not accepted: $(cat sign.out)"
[ "$(grep -c '^H DKIM-Signature' sign.out)" = 2 ] || { cat sign.out; fail "expected 2 signatures"; }
grep -q 'acdc_s=AAAAAAAAAAAAAAAAAAAAAA==' sign.out && fail "ACDC salt is all zero"
[ "$(grep -o 'acdc_s=[^;]*' sign.out | sort -u | wc -l)" = 1 ] || fail "one instance, two salts"
ok "internal client: milter adds two DKIM-Signature fields (rsa-sha256, ed25519-sha256)"

# Rebuild the signed message (inserted at the top, in order) and verify it with three verifiers.
{
    grep '^H DKIM-Signature' sign.out | tac | sed -e 's/^H //' -e 's/\\n/\r\n/g' -e 's/$/\r/'
    sed 's/$/\r/' m.hdrs
    printf '\r\n'
    cat m.body
} > signed.eml
"$M" dkim verify --key-file keys.txt --mail-from '<alice@example.test>' --rcpt '<bob@example.net>' \
    signed.eml > v.out || { cat v.out; fail "mamori does not verify the milter's signatures"; }
grep -q "x-acdc=pass" v.out || fail "ACDC envelope binding missing"
r=$(opendkim_verify signed.eml); [ "$r" = pass ] || { cat opendkim.out; fail "opendkim: $r"; }
for i in 0 1; do r=$(dkimpy_verify signed.eml $i); [ "${r%% *}" = pass ] || fail "dkimpy sig $i: $r"; done
ok "milter-signed message verifies with mamori (+ACDC envelope), opendkim and dkimpy"

# Inbound: the signed message from an external client
grep '^H DKIM-Signature' sign.out | tac | sed -e 's/^H //' > in.hdrs
cat m.hdrs >> in.hdrs
cp m.body in.body
lua verify 192.0.2.7 '<alice@example.test>' '<bob@example.net>' in sd
grep -q '^reply=accept' verify.out || fail "verify transaction: $(cat verify.out)"
ar=$(grep '^H Authentication-Results' verify.out)
[ "$(grep -o 'dkim=pass' <<< "$ar" | wc -l)" = 2 ] || fail "A-R lacks two dkim=pass: $ar"
grep -q 'mx.example.net;' <<< "$ar" || fail "authserv-id missing: $ar"
grep -q 'x-acdc=pass' <<< "$ar" || fail "ACDC result missing: $ar"
ok "external client: Authentication-Results with dkim=pass x2 and x-acdc=pass"

# concurrent sessions (libmilter runs one thread per connection; shared key cache and audit)
par=""
for i in 1 2 3 4 5 6; do
    ( lua "par$i" 192.0.2.7 '<alice@example.test>' '<bob@example.net>' in sd ) &
    par="$par $!"
done
for p in $par; do wait "$p"; done   # only these: the daemons run on
for i in 1 2 3 4 5 6; do
    [ "$(grep -o 'dkim=pass' "par$i.out" 2>/dev/null | wc -l)" = 2 ] || fail "concurrent session $i: $(cat "par$i.out" 2>&1)"
done
ok "six concurrent verifications on one daemon all pass"

lua replay 192.0.2.7 '<alice@example.test>' '<mallory@evil.test>' in sd
grep -q 'acdc-envelope-rcpt-not-authorized' replay.out || fail "replay not detected: $(cat replay.out)"
ok "replay to another RCPT TO: x-acdc names acdc-envelope-rcpt-not-authorized"

printf 'Hello Bob,\r\nsigned by the milter!\r\n' > in.body
lua tamper 192.0.2.7 '<alice@example.test>' '<bob@example.net>' in sd
grep -q 'dkim=pass' tamper.out && fail "tampered body passed: $(cat tamper.out)"
[ "$(grep -o 'dkim=fail' tamper.out | wc -l)" = 2 ] || fail "tampered body: $(cat tamper.out)"
ok "tampered body: dkim=fail for both signatures"

# Intermediary (ACDC change records): a gateway that tags the subject and adds a footer.
config im '{"key-file": "'"$TMP"'/keys.txt"}' tempfail rsa.pem \
    ' "intermediary": {"domain": "example.test", "subject-tag": "[gw]", "footer": "-- \nscanned by gw"},'
start im
printf 'Hello Bob,\r\nsigned by the milter.\r\n' > in.body
lua inter 192.0.2.7 '<alice@example.test>' '<bob@example.net>' in im
grep -q '^reply=accept' inter.out || fail "intermediary: $(cat inter.out)"
grep -q '^subject-changed' inter.out && grep -q '^body-changed' inter.out || fail "no edit: $(cat inter.out)"
grep -q '^H ACDC-Diff' inter.out || fail "no change record: $(cat inter.out)"
[ "$(grep -c '^H DKIM-Signature' inter.out)" = 2 ] || fail "intermediary signatures: $(cat inter.out)"
# the edited message as the MTA will write it: inserted fields on top, edited Subject, new body
{
    grep -e '^H DKIM-Signature' -e '^H ACDC-Diff' inter.out | tac | sed -e 's/^H //' -e 's/\\n/\r\n/g' -e 's/$/\r/'
    grep '^DKIM-Signature' in.hdrs | sed -e 's/\\n/\r\n/g' -e 's/$/\r/'
    grep -v '^DKIM-Signature' in.hdrs | sed -e 's/^Subject: /Subject: [gw] /' -e 's/$/\r/'
    printf '\r\n'
    cat in.body
    printf -- '-- \r\nscanned by gw\r\n'
} > edited.eml
"$M" dkim verify --key-file keys.txt --mail-from '<alice@example.test>' --rcpt '<bob@example.net>' \
    edited.eml > v.out
grep -q 'x-acdc=pass' v.out && grep -q 'x-acdc.instances=2' v.out || { cat v.out; fail "chain after the edit"; }
grep -q 'dkim=fail' v.out || fail "instance 1 should fail classically after the edit: $(cat v.out)"
r=$(dkimpy_verify edited.eml 0); [ "${r%% *}" = pass ] || fail "dkimpy on the gateway signature: $r"
ok "intermediary: subject tag + footer recorded in a change record; chain of 2 instances verifies, classic verifiers pass the new signature"

# DNS failure policy: a resolver that never answers
"$PY" -c 'import socket,sys,time
s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0))
print(s.getsockname()[1], flush=True); sys.stdout.close()
time.sleep(600)' > silent.port &
PIDS="$PIDS $!"
for _ in $(seq 1 100); do [ -s silent.port ] && break; read -r -t 0.05 < /dev/zero 2>/dev/null || true; done
port=$(cat silent.port); [ -n "$port" ] || fail "silent resolver did not start"
config dt '{"dns-server": "127.0.0.1@'"$port"'", "dns-timeout-ms": 200}' tempfail
config da '{"dns-server": "127.0.0.1@'"$port"'", "dns-timeout-ms": 200}' accept
start dt
start da
lua dnst 192.0.2.7 '<alice@example.test>' '<bob@example.net>' in dt
grep -q '^reply=tempfail' dnst.out || fail "DNS timeout with policy tempfail: $(cat dnst.out)"
lua dnsa 192.0.2.7 '<alice@example.test>' '<bob@example.net>' in da
grep -q '^reply=accept' dnsa.out || fail "DNS timeout with policy accept: $(cat dnsa.out)"
grep -q 'dkim=temperror' dnsa.out || fail "no dkim=temperror: $(cat dnsa.out)"
ok "DNS timeout: tempfail under policy tempfail, dkim=temperror under policy accept"

# Keys stay private: a group/other-readable key is refused at start
cp rsa.pem loose.pem; chmod 644 loose.pem
config lk '{"key-file": "'"$TMP"'/keys.txt"}' tempfail loose.pem
"$D" -c lk.json > lk.log 2>&1 && fail "started with a 0644 key"
grep -q "must be 0600" lk.log || fail "refusal does not say why: $(cat lk.log)"
ok "a key file readable by group/others is refused"
[ -n "${DROPPED:-}" ] && ok "running as nobody after opening socket, keys and audit log (keys stay 0600 root)"

# Audit: every decision recorded (2 signatures + 2 verify records per verified message ...)
grep -q '"action":"sign"' sd-audit.log || fail "no sign record"
[ "$(grep -c '"action":"verify"' sd-audit.log)" -ge 6 ] || fail "verify records missing"
grep -q '"action":"verify-acdc"' sd-audit.log || fail "no ACDC record"
grep -q '"decision":"deny"' sd-audit.log || fail "failures not recorded"
[ "$(stat -c %a sd-audit.log)" = 600 ] || fail "audit log mode"
ok "audit log holds every sign/verify decision (mode 0600)"
echo "all $CHECKS checks passed"
