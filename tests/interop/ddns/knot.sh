#!/bin/bash
# Every accepted change reaches a real authoritative server: Knot DNS with a
# generated config (zone, TSIG key, update ACL, loopback port) in a temp dir;
# mamori-ddnsd pushes RFC 2136 UPDATEs signed with TSIG; kdig proves the
# names answer with the new data. Then Knot is stopped, an update is
# acknowledged anyway, ddnsd is killed with SIGKILL, both come back, and the
# queued change still reaches Knot.
# SPDX-License-Identifier: Apache-2.0
set -u
. "$(dirname "$0")/lib.sh"
need_prog curl
need_prog python3
need_prog knsupdate

ZONE=dyn.example.test
HOST=home.$ZONE
knot_prepare "$ZONE"

start_knot
ok "knotd serves $ZONE on 127.0.0.1@$KPORT"

# An unsigned update is refused: the key is what authorises changes.
printf 'server 127.0.0.1 %s\nzone %s.\nupdate add evil.%s. 60 A 203.0.113.66\nsend\n' \
    "$KPORT" "$ZONE" "$ZONE" | knsupdate >"$TMP/unsigned.out" 2>&1
dig_is "evil.$ZONE" A "" || fail "Knot accepted an unsigned update"
ok "unsigned update refused by Knot"

"$MAMORI" ddns admin zone-add --state-dir "$STATE" --zone "$ZONE" --server-ip 127.0.0.1 \
    --port "$KPORT" --key-name apertodns-key --key-secret "$SECRET" >/dev/null || fail "zone-add"
T=$(seed_token --host "$HOST" --scopes all)
start_ddnsd

r=$(api POST /update "{\"hostname\":\"$HOST\",\"ipv4\":\"203.0.113.50\",\"ipv6\":\"2001:db8::50\",\"ttl\":120}")
[ "${r%% *}" = 200 ] || fail "update: $r"
wait_for dig_is "$HOST" A 203.0.113.50 || fail "A not in Knot"
wait_for dig_is "$HOST" AAAA 2001:db8::50 || fail "AAAA not in Knot"
ttl=$(kdig @127.0.0.1 -p "$KPORT" +noall +answer "$HOST" A | awk '{print $2}')
[ "$ttl" = 120 ] || fail "TTL in Knot is $ttl, not 120"
ok "A and AAAA with TTL 120 answered by Knot"

r=$(api POST /update "{\"hostname\":\"$HOST\",\"ipv4\":\"203.0.113.51\"}")
wait_for dig_is "$HOST" A 203.0.113.51 || fail "replaced A not in Knot"
ok "replaced A answered (one address, the old one gone)"

r=$(api POST /txt "{\"hostname\":\"_acme-challenge.$HOST\",\"value\":\"tok-1\"}")
[ "${r%% *}" = 200 ] || fail "txt: $r"
r=$(api POST /update "{\"hostname\":\"$HOST\",\"txt\":{\"name\":\"_acme-challenge\",\"value\":\"tok \\\"2\\\"\",\"action\":\"set\"}}")
[ "${r%% *}" = 200 ] || fail "txt via update: $r"
wait_for dig_is "_acme-challenge.$HOST" TXT '"tok \"2\"" "tok-1"' || fail "two TXT values not in Knot"
ok "two TXT values (one with quotes) answered"
r=$(api DELETE /txt "{\"hostname\":\"_acme-challenge.$HOST\",\"value\":\"tok-1\"}")
wait_for dig_is "_acme-challenge.$HOST" TXT '"tok \"2\""' || fail "TXT delete of one value"
r=$(api DELETE /txt "{\"hostname\":\"_acme-challenge.$HOST\"}")
wait_for dig_is "_acme-challenge.$HOST" TXT "" || fail "TXT delete of all values"
ok "TXT deletes reached Knot"

r=$(api POST /update "{\"hostname\":\"$HOST\",\"ipv4\":null}")
wait_for dig_is "$HOST" A "" || fail "A deletion not in Knot"
dig_is "$HOST" AAAA 2001:db8::50 || fail "AAAA lost with the A deletion"
ok "ipv4:null deleted the A RRset only"

# dyndns2 goes the same way
code=$(curl -s --cacert "$CA" -u "x:$T" "$S/nic/update?hostname=$HOST&myip=198.51.100.60")
[ "$code" = "good 198.51.100.60" ] || fail "nic/update: $code"
wait_for dig_is "$HOST" A 198.51.100.60 || fail "nic/update A not in Knot"
ok "/nic/update reached Knot"

# The ACME DNS-01 hook of docs/ddnsd.md, run as certbot runs it: the wrapper
# script from the docs (example server, token file, CA and program replaced by
# the test's), a token with only txt:write,txt:delete, a wildcard and its base
# name sharing one owner name. Each step is checked in Knot.
DOC="$MM_SOURCE_ROOT/docs/ddnsd.md"
sed -n '/<!-- acme-hook:begin -->/,/<!-- acme-hook:end -->/p' "$DOC" | sed -n "/<<'HOOK'/,/^HOOK$/p" \
    | sed '1d;$d' > "$TMP/hook.tmpl"
grep -q 'acme-hook "$1"' "$TMP/hook.tmpl" || fail "hook script not found in $DOC"
seed_token --host "$HOST" --scopes txt:write,txt:delete > "$TMP/acme.token"
sed -e "s#https://ddns.example.net:8443#$S#" -e "s#/etc/mamori/acme.token#$TMP/acme.token#" \
    -e "s#/etc/mamori/ca.crt#$CA#" -e "s#exec mamori #exec $MAMORI #" "$TMP/hook.tmpl" > "$TMP/mamori-acme-hook"
chmod +x "$TMP/mamori-acme-hook"
hook() { CERTBOT_DOMAIN=$HOST CERTBOT_VALIDATION=$2 sh -c "$TMP/mamori-acme-hook $1" >>"$TMP/hook.out" 2>&1; }
hook auth acme-base-value || fail "auth hook (base): $(cat "$TMP/hook.out")"
wait_for dig_is "_acme-challenge.$HOST" TXT '"acme-base-value"' || fail "auth hook: TXT not in Knot"
hook auth acme-wildcard-value || fail "auth hook (wildcard): $(cat "$TMP/hook.out")"
wait_for dig_is "_acme-challenge.$HOST" TXT '"acme-base-value" "acme-wildcard-value"' \
    || fail "auth hook: the two challenge values do not coexist in Knot"
ok "ACME auth hook: both challenge values answered by Knot"
hook cleanup acme-base-value || fail "cleanup hook: $(cat "$TMP/hook.out")"
wait_for dig_is "_acme-challenge.$HOST" TXT '"acme-wildcard-value"' || fail "cleanup removed the wrong value"
hook cleanup acme-wildcard-value || fail "cleanup hook (wildcard): $(cat "$TMP/hook.out")"
wait_for dig_is "_acme-challenge.$HOST" TXT "" || fail "cleanup hook: TXT left in Knot"
ok "ACME cleanup hook: each value removed, none left in Knot"
CERTBOT_DOMAIN=$HOST sh -c "$TMP/mamori-acme-hook auth" >/dev/null 2>&1 && fail "hook ran without CERTBOT_VALIDATION"
ok "hook without CERTBOT_VALIDATION refused"

# Knot down: the change is acknowledged and queued durably; ddnsd killed; both back.
stop_knot
r=$(api POST /update "{\"hostname\":\"$HOST\",\"ipv4\":\"203.0.113.77\"}")
[ "${r%% *}" = 200 ] || fail "update while Knot is down: $r"
degraded() { curl -s --cacert "$CA" "$B/health" | grep -q '"status":"degraded"'; }
wait_for degraded || fail "/health does not report the unreachable DNS server"
ok "Knot down: update acknowledged, /health degraded"
kill -9 "$DPID"; wait "$DPID" 2>/dev/null
start_knot
dig_is "$HOST" A 198.51.100.60 || fail "Knot lost its journal"
start_ddnsd
wait_for dig_is "$HOST" A 203.0.113.77 || wait_for dig_is "$HOST" A 203.0.113.77 \
    || fail "the queued change did not reach Knot after both restarted"
ok "queued change survived SIGKILL and reached Knot"
healthy() { curl -s --cacert "$CA" "$B/health" | grep -q '"status":"healthy".*"dns_queue":0'; }
wait_for healthy || fail "queue not drained"
ok "queue drained, /health healthy"
