#!/usr/bin/env bash
# Interop with BIRD 2: BIRD (127.0.15.68) connects to mamori-bgpd (127.0.15.67,
# passive). BIRD originates flow4/flow6 static rules with raw IFIT ECs that
# mamori must decode into fields; mamori's rules are checked, EC bytes
# included, in `birdc show route table f4|f6 all`. Then a NOTIFICATION with
# an RFC 9003 shutdown message (birdc disable), a hold-timer expiry (bird
# stopped) and a BIRD restart are each handled.
# usage: bird.sh MAMORI-BGPD MAMORI
BGPD=$1 MAMORI=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
command -v bird >/dev/null && command -v birdc >/dev/null || skip "BIRD not installed (package bird2)"
M=127.0.15.67 B=127.0.15.68
EXTRA_CLEANUP='[ -s "$T/bird.pid" ] && kill -CONT "$(cat "$T/bird.pid")" 2>/dev/null; [ -s "$T/bird.pid" ] && kill "$(cat "$T/bird.pid")" 2>/dev/null'
bc() { birdc -s "$T/bird.ctl" "$@"; }
cat >"$T/bird.conf" <<CONF
router id 10.0.0.68;
log "$T/bird.log" all;
flow4 table f4;
flow6 table f6;
protocol device {}
protocol static s4 {
  flow4 { table f4; };
  route flow4 { dst 10.68.0.0/24; proto = 17; dport = 53; } {
    bgp_ext_community.add((generic, 0x800600ff, 0x00000000));   # discard (AS 255)
    bgp_ext_community.add((generic, 0x81ab0002, 0xf0000000));   # IFIT incremental trace
  };
}
protocol static s6 {
  flow6 { table f6; };
  route flow6 { dst 2001:db8:68::/48; next header = 17; } {
    bgp_ext_community.add((generic, 0x81ac0007, 0x80000001));   # IFIT DEX
  };
}
protocol bgp mamori {
  local $B port 1179 as 65068;
  neighbor $M port 1179 as 65067;
  multihop;
  strict bind yes;
  hold time 6;
  connect retry time 1;
  error wait time 1, 2;
  flow4 { table f4; import all; export all; };
  flow6 { table f6; import all; export all; };
}
CONF
start_bird() {
  rm -f "$T/bird.pid"
  bird -c "$T/bird.conf" -s "$T/bird.ctl" -P "$T/bird.pid" >>"$T/bird.out" 2>&1
  wait_for "BIRD started" "[ -s '$T/bird.pid' ] && [ -S '$T/bird.ctl' ]" 15
}
cat >"$T/bgpd.json" <<CONF
{"local-as": 65067, "router-id": "10.0.0.67", "listen-address": "$M", "listen-port": 1179,
 "connect-retry": 1,
 "neighbors": [{"address": "$B", "remote-as": 65068, "passive": true,
                "families": ["ipv4-flowspec", "ipv6-flowspec"]}],
 "flowspec": [
  {"family": "ipv4-flowspec", "match": "dst 10.67.0.0/24 proto =17 dport >=1000&<=2000",
   "then": ["rate-bytes 9600", "ifit ioam-preallocated-trace namespace 1 trace-type 0x123456 flags 15"]},
  {"family": "ipv6-flowspec", "match": "dst 2001:db8:67::/48 next-header =17",
   "then": ["discard", "ifit enhanced-alternate-marking flow-mon-id 0x12345 period 10 loss delay"]}]}
CONF
start_bgpd "$T/bgpd.json"
start_bird
wait_for "Established with BIRD" "neighbor_is $B Established" 40 || finish

# BIRD prints each EC as (generic, high 32 bits, low 32 bits): the bytes mamori sent.
bird_has() { # TABLE RULE-TEXT EC-TEXT
  bc show route table "$1" all | python3 -c '
import sys
rule,ec=sys.argv[1:3]; cur=None
for line in sys.stdin:
  if line.startswith("flow"): cur=line
  elif cur and rule in cur and "from '"$M"'" in cur and "BGP.ext_community:" in line and ec in line: sys.exit(0)
sys.exit(1)' "$2" "$3"
}
wait_for "mamori flow4 rule at BIRD, EC bytes intact" \
  "bird_has f4 'dst 10.67.0.0/24; proto 17; dport 1000..2000;' '(generic, 0x80060000, 0x46160000) (generic, 0x81aa0001, 0x1234560f)'" 15
wait_for "mamori flow6 rule at BIRD, EC bytes intact" \
  "bird_has f6 'dst 2001:db8:67::/48; next header 17;' '(generic, 0x80060000, 0x0) (generic, 0x81ae1234, 0x50ac0000)'" 15
wait_for "BIRD flow4 rule decoded by mamori (incremental trace fields)" \
  "rib_has flow4 $B 'dst 10.68.0.0/24 proto =17 dport =53' \
   'discard; ifit ioam-incremental-trace namespace 2 trace-type 0xf00000 flags 0x00'" 15
wait_for "BIRD flow6 rule decoded by mamori (DEX fields)" \
  "rib_has flow6 $B 'dst 2001:db8:68::/48 next-header =17' 'ifit ioam-dex namespace 7 trace-type 0x800000 ext-flags 0x01'" 15

# 1. NOTIFICATION with an RFC 9003 shutdown communication.
bc 'disable mamori "planned maintenance"' >/dev/null
wait_for "Cease 6/2 with its message (audited)" "grep -q '\"notification\".*received 6/2 Cease: planned maintenance' '$T/audit.log'" 10
check "BIRD's rules released" "[ \"\$(rib_count flow4 $B)\" = 0 ]"
bc enable mamori >/dev/null
wait_for "re-established after enable" "neighbor_is $B Established" 40
# 2. Hold timer expiry: BIRD frozen (it proposed 6 s).
BPID=$(cat "$T/bird.pid")
kill -STOP "$BPID"
wait_for "hold timer expired, NOTIFICATION 4/0 sent (audited)" "grep -q '\"notification\".*sent 4/0' '$T/audit.log'" 20
kill -CONT "$BPID"
wait_for "re-established after hold expiry" "neighbor_is $B Established" 40
# 3. BIRD restart.
kill "$BPID"
wait_for "session down after BIRD exit" "! neighbor_is $B Established" 10
start_bird
wait_for "re-established with the restarted BIRD" "neighbor_is $B Established" 40
wait_for "BIRD rules learnt again" "[ \"\$(rib_count flow4 $B)\" = 1 ]" 15
finish
