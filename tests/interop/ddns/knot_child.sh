#!/bin/bash
# `mamori-ddnsd --knot PORT` (what `mamori up` runs): ddnsd generates the
# Knot config (zone, TSIG key, update ACL, loopback port) in STATE/knot,
# runs knotd as its child, and every update is answered by it (kdig). The
# data survives a restart; a SIGKILLed ddnsd takes knotd with it; without
# knotd, ddnsd logs a hint and serves the API alone.
# SPDX-License-Identifier: Apache-2.0
set -u
. "$(dirname "$0")/lib.sh"
need_prog curl
need_prog python3
KNOTD=$(command -v knotd || echo /usr/sbin/knotd)
[ -x "$KNOTD" ] || skip "knotd not installed (Debian package knot)"
need_prog kdig

ZONE=dyn.home.arpa
HOST=home.$ZONE
KPORT=$(free_port)
T=$(seed_token --host "$HOST" --scopes all)
start_ddnsd --knot "$KPORT" --log-level debug
soa() { kdig @127.0.0.1 -p "$KPORT" +short +timeout=1 +retry=0 "$ZONE" SOA | grep -q hostmaster; }
wait_for soa || fail "Knot child does not answer for $ZONE"
ok "ddnsd started knotd for $ZONE on 127.0.0.1@$KPORT"

C="$STATE/knot/knot.conf"
grep -q "listen: 127.0.0.1@$KPORT" "$C" || fail "knot.conf does not listen on loopback:$KPORT"
grep -q "action: update" "$C" && grep -q "key: mamori-ddnsd" "$C" || fail "no TSIG update ACL in knot.conf"
[ "$(stat -c %a "$STATE/knot/tsig.key")" = 600 ] || fail "tsig.key is not 0600"
"$MAMORI" ddns admin list --state-dir "$STATE" | grep -q "$ZONE primary=127.0.0.1@$KPORT key=mamori-ddnsd" \
    || fail "zone not registered with its key: $("$MAMORI" ddns admin list --state-dir "$STATE")"
ok "generated config: loopback listener, TSIG-only update ACL, 0600 key, zone registered"

# Knot's control socket: ddnsd sends `zone-notify` on it when an UPDATE follows
# a second boundary (Knot 3.2 would otherwise hold that UPDATE up to 1 s).
# Updates in lockstep until one crosses a boundary: the kick must reach knotd
# and be accepted (rc=0), and no control-socket warning may be logged.
grep -q "listen: knot.sock" "$C" || fail "knot.conf has no control socket"
kicked() { grep -q "event=ddnsd-knot-kick zone=$ZONE rc=0" "$DLOG"; }
for i in $(seq 1 200); do
    kicked && break
    r=$(api POST /update "{\"hostname\":\"$HOST\",\"ipv4\":\"203.0.113.$((i % 200 + 1))\"}")
    [ "${r%% *}" = 200 ] || fail "update $i: $r"
    wait_for dig_is "$HOST" A "203.0.113.$((i % 200 + 1))" || fail "update $i not answered"
done
kicked || fail "no zone-notify kick accepted by knotd over 200 updates: $(grep knot "$DLOG" | tail -n 3)"
! grep -q "event=ddnsd-knot-control" "$DLOG" || fail "control socket: $(grep event=ddnsd-knot-control "$DLOG")"
ok "zone-notify kick sent over Knot's control socket after a second boundary (updates: $i)"

r=$(api POST /update "{\"hostname\":\"$HOST\",\"ipv4\":\"203.0.113.30\",\"ipv6\":\"2001:db8::30\"}")
[ "${r%% *}" = 200 ] || fail "update: $r"
wait_for dig_is "$HOST" A 203.0.113.30 || fail "A not answered by the Knot child"
wait_for dig_is "$HOST" AAAA 2001:db8::30 || fail "AAAA not answered by the Knot child"
ok "update answered by the Knot child"

# SIGTERM: ddnsd stops knotd; both come back with the data.
KPID=$(sed -n 's/.*event=ddnsd-knot-start pid=\([0-9]*\).*/\1/p' "$DLOG" | tail -n 1)
[ -n "$KPID" ] || fail "knotd pid not logged"
stop_ddnsd
gone() { ! kill -0 "$KPID" 2>/dev/null; }
wait_for gone || fail "knotd still running after ddnsd stopped"
ok "ddnsd stop stops knotd"
start_ddnsd --knot "$KPORT"
wait_for dig_is "$HOST" A 203.0.113.30 || fail "Knot lost the update across a restart"
ok "restart: the zone still answers the update"

# SIGKILL of ddnsd: knotd must not be left holding the port.
KPID=$(sed -n 's/.*event=ddnsd-knot-start pid=\([0-9]*\).*/\1/p' "$DLOG" | tail -n 1)
kill -9 "$DPID"; wait "$DPID" 2>/dev/null
wait_for gone || fail "knotd survived a SIGKILLed ddnsd"
ok "SIGKILLed ddnsd takes knotd with it"

# knotd missing: a clear hint, the API still serves.
MM_KNOTD=/nonexistent/knotd start_ddnsd --knot "$KPORT"
grep -q 'event=ddnsd-knot-missing hint="knotd not found: install the Debian package knot' "$DLOG" \
    || fail "no hint when knotd is missing"
r=$(api GET "/status/$HOST")
[ "${r%% *}" = 200 ] || fail "API down without knotd: $r"
ok "without knotd: hint logged, API serving"
