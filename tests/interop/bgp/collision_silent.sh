#!/usr/bin/env bash
# RFC 4271 §6.8: a colliding inbound connection that never sends its OPEN is
# held by mamori-bgpd; once the session is Established on the other
# connection, the held one is closed with NOTIFICATION Cease / Connection
# Collision Resolution (6/7) instead of lingering until its hold timer (seen
# with GoBGP, which may dial and then stay silent). The peer is scripted
# (collision_silent.py) so the order of events is certain.
# usage: collision_silent.sh MAMORI-BGPD MAMORI
BGPD=$1 MAMORI=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
M=127.0.15.85 P=127.0.15.86
cat >"$T/bgpd.json" <<CONF
{"local-as": 65185, "router-id": "10.0.15.85", "listen-address": "$M", "listen-port": 1179,
 "connect-retry": 1, "hold-time": 90,
 "neighbors": [{"address": "$P", "remote-as": 65186, "port": 1179, "local-address": "$M",
                "families": ["ipv4-flowspec"]}]}
CONF
mkfifo "$T/peer.in"
python3 "$HERE/collision_silent.py" $P $M 1179 65186 10.0.15.86 <"$T/peer.in" >"$T/peer.out" 2>&1 &
PIDS+=($!)
exec 7>"$T/peer.in"
EXTRA_CLEANUP='exec 7>&-'
wait_for "scripted peer listening" "grep -q listening '$T/peer.out'" 10 || finish
start_bgpd "$T/bgpd.json"
wait_for "the peer's second connection is held until its OPEN" \
  "grep -q 'inbound connection held until its OPEN' '$T/bgpd.log'" 20 || finish
echo go >&7
wait_for "Established on mamori's connection" "neighbor_is $P Established" 20 || finish
wait_for "the silent connection got NOTIFICATION Cease/7" "grep -q 'silent-notification 6/7' '$T/peer.out'" 20
wait_for "and was closed" "grep -q 'silent-closed' '$T/peer.out'" 20
check "the close is audited" \
  "grep -q 'session established on the other connection' '$T/audit.log'"
check "the session stays Established" "neighbor_is $P Established"
echo done >&7
[ $fails -ne 0 ] && { echo "--- peer"; cat "$T/peer.out"; }
finish
