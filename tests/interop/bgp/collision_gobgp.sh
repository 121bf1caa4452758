#!/usr/bin/env bash
# RFC 4271 §6.8 against a real peer: mamori-bgpd (127.0.15.83, identifier
# 10.0.15.83) and gobgpd (127.0.15.84, identifier 10.0.15.84), both active.
# The collision is forced as in collision.sh: SYNs dropped by an nftables
# table of this test while both connect, both daemons stopped, the table
# removed, both handshakes completed by the kernel, both continued.
# GoBGP does not apply the §6.8 identifier rule here: depending on which of
# its events it handles first, it either drops its own dial before sending an
# OPEN on it, or closes the connection it accepted (log: "Closed an accepted
# connection"), without a NOTIFICATION either way (observed with Debian's
# gobgpd). collision.sh and collision_frr.sh cover the rule itself. What is
# checked here: two simultaneous connections really existed, mamori copes
# with whichever GoBGP closes, and exactly one session (one TCP connection)
# remains, Established on both sides.
# usage: collision_gobgp.sh MAMORI-BGPD MAMORI
BGPD=$1 MAMORI=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
command -v gobgpd >/dev/null && command -v gobgp >/dev/null || skip "GoBGP not installed (package gobgpd)"
command -v nft >/dev/null && command -v ss >/dev/null || skip "nftables and ss (iproute2) are needed"
M=127.0.15.83 G=127.0.15.84
TBL=mm_bgp_collision_gobgp_$$
nft add table inet $TBL 2>/dev/null || skip "cannot create an nftables table (not root?)"
EXTRA_CLEANUP="nft delete table inet $TBL 2>/dev/null"
nft add chain inet $TBL out '{ type filter hook output priority 0; }'
nft add rule inet $TBL out ip saddr "{ $M, $G }" ip daddr "{ $M, $G }" tcp dport 1179 \
  'tcp flags & (syn | ack) == syn' drop
cat >"$T/gobgp.toml" <<CONF
[global.config]
  as = 65184
  router-id = "10.0.15.84"
  port = 1179
  local-address-list = ["$G"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "$M"
    peer-as = 65183
  [neighbors.timers.config]
    connect-retry = 30
  [neighbors.transport.config]
    local-address = "$G"
    remote-port = 1179
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-flowspec"
CONF
cat >"$T/bgpd.json" <<CONF
{"local-as": 65183, "router-id": "10.0.15.83", "listen-address": "$M", "listen-port": 1179,
 "connect-retry": 30,
 "neighbors": [{"address": "$G", "remote-as": 65184, "port": 1179, "local-address": "$M",
                "families": ["ipv4-flowspec"]}]}
CONF
gobgpd -f "$T/gobgp.toml" --api-hosts $G:50084 --pprof-disable >>"$T/gobgpd.log" 2>&1 &
GP=$!
PIDS+=($GP)
start_bgpd "$T/bgpd.json"
syn_sent() { ss -Htn state syn-sent src "$1" dst "$2:1179" | grep -q .; }
wait_for "both speakers connecting (SYN-SENT, SYNs dropped)" "syn_sent $M $G && syn_sent $G $M" 60 || finish
kill -STOP $BGPD_PID $GP
nft delete table inet $TBL
est() { ss -Htn state established src "$1" dst "$2:1179" | wc -l; }
wait_for "both handshakes completed in the kernel while the speakers are stopped" \
  "[ \$(est $M $G) -ge 1 ] && [ \$(est $G $M) -ge 1 ]" 20 || finish
kill -CONT $BGPD_PID $GP
wait_for "Established with GoBGP" "neighbor_is $G Established" 30 || finish
wait_for "exactly one TCP connection remains between the two" \
  "[ \$((\$(est $G $M) + \$(est $M $G))) = 1 ]" 15
check "GoBGP reports the session Established" \
  "gobgp -u $G -p 50084 neighbor $M 2>/dev/null | grep -qi 'BGP state = established'"
echo "# how it resolved this time (mamori's log):"
grep 'event=collision' "$T/bgpd.log" | sed 's/^/#   /'
[ $fails -ne 0 ] && { echo "--- gobgpd log"; tail -20 "$T/gobgpd.log"; }
finish
