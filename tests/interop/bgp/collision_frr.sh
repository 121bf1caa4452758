#!/usr/bin/env bash
# RFC 4271 §6.8 against FRR: mamori-bgpd (127.0.15.85, identifier 10.0.15.85)
# and FRR bgpd (127.0.15.86, identifier 10.0.15.86), both active. The
# collision is forced as in collision.sh (SYNs dropped by this test's
# nftables table while both connect, both stopped, table removed, both
# handshakes completed by the kernel, both continued).
# Expected: FRR's connection (higher identifier) is kept, mamori's is closed
# with Cease / Connection Collision Resolution (6/7), Established on both.
# usage: collision_frr.sh MAMORI-BGPD MAMORI
BGPD=$1 MAMORI=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
FRR=/usr/lib/frr/bgpd
[ -x $FRR ] && command -v vtysh >/dev/null || skip "FRR not installed (package frr)"
[ "$(id -u)" = 0 ] || skip "FRR bgpd and nftables need root here"
command -v nft >/dev/null && command -v ss >/dev/null || skip "nftables and ss (iproute2) are needed"
M=127.0.15.85 F=127.0.15.86
TBL=mm_bgp_collision_frr_$$
mkdir -p "$T/frr" && chmod 777 "$T/frr"
nft add table inet $TBL 2>/dev/null || skip "cannot create an nftables table"
EXTRA_CLEANUP='nft delete table inet $TBL 2>/dev/null; [ -s "$T/frr/bgpd.pid" ] && kill -CONT "$(cat "$T/frr/bgpd.pid")" 2>/dev/null; [ -s "$T/frr/bgpd.pid" ] && kill "$(cat "$T/frr/bgpd.pid")" 2>/dev/null'
nft add chain inet $TBL out '{ type filter hook output priority 0; }'
nft add rule inet $TBL out ip saddr "{ $M, $F }" ip daddr "{ $M, $F }" tcp dport 1179 \
  'tcp flags & (syn | ack) == syn' drop
vt() { vtysh --vty_socket "$T/frr" -c "$1"; }
cat >"$T/frr/bgpd.conf" <<CONF
frr defaults traditional
hostname mamori-collision-frr
log file $T/frr/bgpd.log debugging
debug bgp neighbor-events
router bgp 65186
 bgp router-id 10.0.15.86
 no bgp ebgp-requires-policy
 neighbor $M remote-as 65185
 neighbor $M port 1179
 neighbor $M update-source $F
 neighbor $M timers connect 30
 address-family ipv4 flowspec
  neighbor $M activate
 exit-address-family
!
CONF
cat >"$T/bgpd.json" <<CONF
{"local-as": 65185, "router-id": "10.0.15.85", "listen-address": "$M", "listen-port": 1179,
 "connect-retry": 30,
 "neighbors": [{"address": "$F", "remote-as": 65186, "port": 1179, "local-address": "$M",
                "families": ["ipv4-flowspec"]}]}
CONF
$FRR -d -Z -n -S -f "$T/frr/bgpd.conf" -i "$T/frr/bgpd.pid" --vty_socket "$T/frr" -P 0 -l $F -p 1179 \
  >>"$T/frr/stdout" 2>&1
wait_for "FRR bgpd started" "[ -s '$T/frr/bgpd.pid' ] && [ -S '$T/frr/bgpd.vty' ]" 15 || finish
FP=$(cat "$T/frr/bgpd.pid")
start_bgpd "$T/bgpd.json"
syn_sent() { ss -Htn state syn-sent src "$1" dst "$2:1179" | grep -q .; }
wait_for "both speakers connecting (SYN-SENT, SYNs dropped)" "syn_sent $M $F && syn_sent $F $M" 60 || finish
kill -STOP $BGPD_PID $FP
nft delete table inet $TBL
est() { ss -Htn state established src "$1" dst "$2:1179" | wc -l; }
wait_for "both handshakes completed in the kernel while the speakers are stopped" \
  "[ \$(est $M $F) -ge 1 ] && [ \$(est $F $M) -ge 1 ]" 20 || finish
kill -CONT $BGPD_PID $FP
wait_for "Established with FRR" "neighbor_is $F Established" 30 || finish
wait_for "only the connection initiated by FRR (higher identifier) remains" \
  "[ \$(est $F $M) = 1 ] && [ \$(est $M $F) = 0 ]" 15
check "mamori audited the collision and kept FRR's connection" \
  "grep -q '\"collision\".*remote id 10.0.15.86: keep the inbound' '$T/audit.log'"
check "mamori's connection was closed with Cease / Connection Collision Resolution (6/7)" \
  "grep -Eq '\"notification\".*\"(sent|received) 6/7' '$T/audit.log'"
check "FRR reports the session Established" \
  "vt 'show bgp neighbors $M json' | grep -q '\"bgpState\":\"Established\"'"
[ $fails -ne 0 ] && { echo "--- FRR log"; grep -i "collision\|notif\|$M" "$T/frr/bgpd.log" | tail -20; }
finish
