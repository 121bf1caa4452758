#!/usr/bin/env bash
# Interop with FRR bgpd: mamori-bgpd (127.0.15.63, active) and FRR (127.0.15.64,
# passive) with TCP-MD5 (RFC 2385) and GTSM (RFC 5082, FRR ttl-security) on
# both sides. mamori's FlowSpec v4/v6 rules with IFIT ECs are checked in
# FRR's `show bgp ipv4|ipv6 flowspec json` (components) and `... detail`
# (actions; FRR names unknown ECs by type and sub-type only). FRR cannot
# originate FlowSpec (it only receives), so that direction is covered by the
# GoBGP, ExaBGP and BIRD tests. Then a NOTIFICATION (clear bgp), a hold-timer
# expiry (bgpd stopped) and an FRR restart are each handled.
# usage: frr.sh MAMORI-BGPD MAMORI
BGPD=$1 MAMORI=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
FRR=/usr/lib/frr/bgpd
[ -x $FRR ] && command -v vtysh >/dev/null || skip "FRR not installed (package frr)"
[ "$(id -u)" = 0 ] || skip "FRR bgpd needs root here (TCP-MD5 keys, pid file)"
M=127.0.15.63 F=127.0.15.64
mkdir -p "$T/frr" && chmod 777 "$T/frr"
EXTRA_CLEANUP='[ -s "$T/frr/bgpd.pid" ] && kill -CONT "$(cat "$T/frr/bgpd.pid")" 2>/dev/null; [ -s "$T/frr/bgpd.pid" ] && kill "$(cat "$T/frr/bgpd.pid")" 2>/dev/null'
vt() { vtysh --vty_socket "$T/frr" -c "$1"; }
cat >"$T/frr/bgpd.conf" <<CONF
frr defaults traditional
hostname mamori-interop-frr
log file $T/frr/bgpd.log informational
router bgp 65064
 bgp router-id 10.0.0.64
 no bgp ebgp-requires-policy
 neighbor $M remote-as 65063
 neighbor $M port 1179
 neighbor $M passive
 neighbor $M password mamori-md5-key
 neighbor $M ttl-security hops 1
 neighbor $M timers 2 6
 address-family ipv4 flowspec
  neighbor $M activate
 exit-address-family
 address-family ipv6 flowspec
  neighbor $M activate
 exit-address-family
!
CONF
start_frr() {
  rm -f "$T/frr/bgpd.pid"
  $FRR -d -Z -n -S -f "$T/frr/bgpd.conf" -i "$T/frr/bgpd.pid" --vty_socket "$T/frr" -P 0 -l $F -p 1179 \
    >>"$T/frr/stdout" 2>&1
  wait_for "FRR bgpd started" "[ -s '$T/frr/bgpd.pid' ] && [ -S '$T/frr/bgpd.vty' ]" 15
}
cat >"$T/bgpd.json" <<CONF
{"local-as": 65063, "router-id": "10.0.0.63", "listen-address": "$M", "listen-port": 1179,
 "connect-retry": 1,
 "neighbors": [{"address": "$F", "remote-as": 65064, "port": 1179, "local-address": "$M",
                "md5-password": "mamori-md5-key", "gtsm": true,
                "families": ["ipv4-flowspec", "ipv6-flowspec"]}],
 "flowspec": [
  {"family": "ipv4-flowspec", "match": "dst 10.63.0.0/24 src 10.163.0.0/16 proto =17 dport >=1000&<=2000",
   "then": ["rate-bytes 9600", "ifit ioam-preallocated-trace namespace 1 trace-type 0x123456 flags 15"]},
  {"family": "ipv6-flowspec", "match": "dst 2001:db8:63::/48 next-header =17",
   "then": ["discard", "ifit enhanced-alternate-marking flow-mon-id 0x12345 period 10 loss delay"]}]}
CONF
start_frr
start_bgpd "$T/bgpd.json"
wait_for "Established with FRR (TCP-MD5 + GTSM)" "neighbor_is $F Established" 30 || finish
check "TCP-MD5 key on mamori's socket (ss)" "ss -tni state established src $M dst $F | grep -q 'md5keys:$F'"

frr_json_has() { # FAMILY KEY=VALUE...: a route in `show bgp FAMILY flowspec json` with these fields
  vt "show bgp $1 flowspec json" | python3 -c '
import json,sys
d=json.load(sys.stdin); want=dict(a.split("=",1) for a in sys.argv[1:])
for paths in d.get("routes",{}).values():
  for p in paths:
    if all(p.get(k,"").strip()==v for k,v in want.items()): sys.exit(0)
sys.exit(1)' "${@:2}"
}
wait_for "flow4 rule in FRR's JSON (to, from, proto, dstp)" \
  "frr_json_has ipv4 'to=10.63.0.0/24' 'from=10.163.0.0/16' 'proto== 17' 'dstp=>= 1000 , <= 2000'" 10
wait_for "flow6 rule in FRR's JSON" "frr_json_has ipv6 'to=2001:db8:63::/48/off 0' 'proto== 17'" 10
check "flow4 actions at FRR: rate 9600 and the IFIT EC 0x81/0xaa" \
  "vt 'show bgp ipv4 flowspec detail' | grep -q 'FS:rate 9600.000000 UNK:129, 170'"
check "flow6 actions at FRR: discard and the IFIT EC 0x81/0xae" \
  "vt 'show bgp ipv6 flowspec detail' | grep -q 'FS:rate 0.000000 UNK:129, 174'"
check "withdraw through the CLI reaches FRR" \
  "mm withdraw --family flow6 --match 'dst 2001:db8:63::/48 next-header =17' >/dev/null"
wait_for "flow6 rule gone from FRR" "! frr_json_has ipv6 'to=2001:db8:63::/48/off 0'" 10

# 1. NOTIFICATION from FRR (clear = Cease/Administrative Reset).
vt "clear bgp $M" >/dev/null
wait_for "NOTIFICATION 6/4 from FRR (audited)" "grep -q '\"notification\".*received 6/4' '$T/audit.log'" 10
wait_for "re-established after the NOTIFICATION" "neighbor_is $F Established" 30
# 2. Hold timer expiry (FRR proposes 6 s): FRR frozen.
FPID=$(cat "$T/frr/bgpd.pid")
kill -STOP "$FPID"
wait_for "hold timer expired, NOTIFICATION 4/0 sent (audited)" "grep -q '\"notification\".*sent 4/0' '$T/audit.log'" 20
kill -CONT "$FPID"
wait_for "re-established after hold expiry" "neighbor_is $F Established" 40
# 3. FRR restart.
kill "$FPID"
wait_for "session down after FRR exit" "! neighbor_is $F Established" 10
start_frr
wait_for "re-established with the restarted FRR" "neighbor_is $F Established" 40
wait_for "flow4 rule re-sent to the restarted FRR" "frr_json_has ipv4 'to=10.63.0.0/24'" 10
finish
