#!/usr/bin/env bash
# Interop with ExaBGP: ExaBGP (127.0.15.66) connects to mamori-bgpd (127.0.15.65,
# passive). ExaBGP originates IPv4/IPv6 FlowSpec with raw IFIT ECs, which
# mamori must decode into IFIT fields; mamori's rules are checked in what
# ExaBGP's JSON API prints. Then ExaBGP is stopped with SIGSTOP (hold-timer
# expiry), continued, and restarted.
# usage: exabgp.sh MAMORI-BGPD MAMORI
BGPD=$1 MAMORI=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
command -v exabgp >/dev/null || skip "ExaBGP not installed (package exabgp)"
M=127.0.15.65 X=127.0.15.66
# ExaBGP's API process: copy what ExaBGP writes (JSON lines) to a file. It
# must read with select(): ExaBGP makes the pipe non-blocking.
cat >"$T/dump.py" <<PY
import os, select, sys
out = open("$T/exabgp-received.jsonl", "ab", buffering=0)
while True:
    r, _, _ = select.select([0], [], [], 1.0)
    if not r:
        continue
    try:
        d = os.read(0, 65536)
    except BlockingIOError:
        continue
    if not d:
        break
    out.write(d)
PY
cat >"$T/exabgp.conf" <<CONF
process dump {
  run /usr/bin/env python3 $T/dump.py;
  encoder json;
}
neighbor $M {
  router-id 10.0.0.66;
  local-address $X;
  local-as 65066;
  peer-as 65065;
  connect 1179;
  hold-time 6;
  family { ipv4 flow; ipv6 flow; }
  api { processes [ dump ]; receive { parsed; update; } }
  flow {
    route v4 {
      match { source 10.166.0.0/24; destination 10.66.0.0/24; protocol tcp; destination-port =80; }
      then { rate-limit 9600; extended-community [ 0x81aa00011234560f ]; }
    }
    route v6 {
      match { destination 2001:db8:66::/48/0; next-header udp; }
      then { discard; extended-community [ 0x81ae123450ac0000 ]; }
    }
  }
}
CONF
start_exabgp() {
  env exabgp.daemon.user=root exabgp.tcp.bind= exabgp.log.destination="$T/exabgp.log" \
    exabgp.daemon.pid="$T/exabgp.pid" exabgp "$T/exabgp.conf" >>"$T/exabgp.out" 2>&1 &
  EXA=$!
  PIDS+=($EXA)
}
cat >"$T/bgpd.json" <<CONF
{"local-as": 65065, "router-id": "10.0.0.65", "listen-address": "$M", "listen-port": 1179,
 "connect-retry": 1,
 "neighbors": [{"address": "$X", "remote-as": 65066, "passive": true,
                "families": ["ipv4-flowspec", "ipv6-flowspec"]}],
 "flowspec": [
  {"family": "ipv4-flowspec", "match": "dst 10.65.0.0/24 proto =17 dport >=1000&<=2000",
   "then": ["rate-bytes 9600", "ifit ioam-preallocated-trace namespace 1 trace-type 0x123456 flags 15"]},
  {"family": "ipv6-flowspec", "match": "dst 2001:db8:65::/48 next-header =17",
   "then": ["discard", "ifit ioam-e2e namespace 32769 e2e-type 0xc000"]}]}
CONF
start_bgpd "$T/bgpd.json"
start_exabgp
wait_for "Established with ExaBGP" "neighbor_is $X Established" 40 || finish

wait_for "ExaBGP flow4 rule decoded by mamori, IFIT EC into fields" \
  "rib_has flow4 $X 'dst 10.66.0.0/24 src 10.166.0.0/24 proto =6 dport =80' \
   'rate-bytes 9600; ifit ioam-preallocated-trace namespace 1 trace-type 0x123456 flags 0x0f'" 15
wait_for "ExaBGP flow6 rule decoded by mamori (enhanced alternate marking)" \
  "rib_has flow6 $X 'dst 2001:db8:66::/48 next-header =17' \
   'discard; ifit enhanced-alternate-marking flow-mon-id 74565 period 10 loss delay'" 15

exa_has() { # FAMILY-KEY PREFIX-KEY PREFIX EC-HEX...: in ExaBGP's JSON output
  [ -s "$T/exabgp-received.jsonl" ] && python3 -c '
import json,sys
fam,key,prefix=sys.argv[1:4]; want={int(h,16) for h in sys.argv[4:-1]}
for line in open(sys.argv[-1]):
  try: m=json.loads(line)
  except ValueError: continue
  u=m.get("neighbor",{}).get("message",{}).get("update",{})
  for rules in u.get("announce",{}).get(fam,{}).values():
    for r in rules:
      if prefix in r.get(key,[]) or any(p.startswith(prefix) for p in r.get(key,[])):
        got={e["value"] for e in u.get("attribute",{}).get("extended-community",[])}
        if want<=got: sys.exit(0)
sys.exit(1)' "$@" "$T/exabgp-received.jsonl"
}
wait_for "mamori flow4 rule at ExaBGP with rate and IFIT EC values" \
  "exa_has 'ipv4 flow' destination-ipv4 10.65.0.0/24 8006000046160000 81aa00011234560f" 15
wait_for "mamori flow6 rule at ExaBGP with discard and IFIT E2E EC" \
  "exa_has 'ipv6 flow' destination-ipv6 2001:db8:65::/48 8006000000000000 81ad8001c0000000" 15

# Hold timer expiry (ExaBGP proposed 6 s).
kill -STOP $EXA
wait_for "hold timer expired, NOTIFICATION 4/0 sent (audited)" "grep -q '\"notification\".*sent 4/0' '$T/audit.log'" 20
check "ExaBGP's rules released" "[ \"\$(rib_count flow4 $X)\" = 0 ]"
kill -CONT $EXA
wait_for "re-established after hold expiry" "neighbor_is $X Established" 40
# Restart: ExaBGP exits (it closes the connection) and comes back.
kill $EXA; wait $EXA 2>/dev/null
wait_for "session down after ExaBGP exit" "! neighbor_is $X Established" 10
check "session loss audited" "grep -q '\"state\".*Established -> Idle' '$T/audit.log'"
start_exabgp
wait_for "re-established with the restarted ExaBGP" "neighbor_is $X Established" 40
wait_for "ExaBGP rules learnt again" "[ \"\$(rib_count flow4 $X)\" = 1 ]" 15
finish
