#!/usr/bin/env bash
# BMP sender: mamori-bgpd (127.0.15.69) peers with GoBGP (127.0.15.70) and streams
# BMP to mamori-bmpd. Checked in the collector's JSON Lines: Initiation
# (sysDescr), Peer Up for GoBGP, Route Monitoring pre- and post-policy of
# GoBGP's FlowSpec UPDATE, a Statistics Report with the Adj-RIB-In gauge,
# and Peer Down when GoBGP resets the session (reason 3, its NOTIFICATION).
# usage: bmp_sender.sh MAMORI-BGPD MAMORI MAMORI-BMPD
BGPD=$1 MAMORI=$2 BMPD=$3
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
command -v gobgpd >/dev/null && command -v gobgp >/dev/null || skip "GoBGP not installed (package gobgpd)"
M=127.0.15.69 G=127.0.15.70
gb() { gobgp -u $G -p 50070 "$@"; }
"$BMPD" --listen 127.0.0.1 --port 0 --port-file "$T/bmpd.port" --jsonl "$T/bmp.jsonl" \
  --audit "$T/bmpd-audit.log" 2>"$T/bmpd.log" &
PIDS+=($!)
wait_for "mamori-bmpd listening" "[ -s '$T/bmpd.port' ]" 10 || finish
cat >"$T/gobgp.toml" <<CONF
[global.config]
  as = 65070
  router-id = "10.0.0.70"
  port = 1179
  local-address-list = ["$G"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "$M"
    peer-as = 65069
  [neighbors.transport.config]
    local-address = "$G"
    remote-port = 1179
    passive-mode = true
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-flowspec"
CONF
gobgpd -f "$T/gobgp.toml" --api-hosts $G:50070 --pprof-disable >"$T/gobgpd.log" 2>&1 &
PIDS+=($!)
cat >"$T/bgpd.json" <<CONF
{"local-as": 65069, "router-id": "10.0.0.69", "listen-address": "$M", "listen-port": 1179,
 "connect-retry": 1, "bmp-stats-interval": 5,
 "bmp-collectors": [{"address": "127.0.0.1", "port": $(cat "$T/bmpd.port")}],
 "neighbors": [{"address": "$G", "remote-as": 65070, "port": 1179, "local-address": "$M",
                "families": ["ipv4-flowspec"]}]}
CONF
start_bgpd "$T/bgpd.json"
wait_for "Established with GoBGP" "neighbor_is $G Established" 30 || finish
gb global rib -a ipv4-flowspec add match destination 10.70.0.0/24 protocol udp then discard >/dev/null
wait_for "rule received" "[ \"\$(rib_count flow4 $G)\" = 1 ]" 10
jl() { # a JSON line of the collector matching python condition on d
  python3 -c '
import json,sys
for l in open(sys.argv[1]):
  try: d=json.loads(l)
  except ValueError: continue
  if eval(sys.argv[2]): sys.exit(0)
sys.exit(1)' "$T/bmp.jsonl" "$1"
}
wait_for "Initiation with our sysDescr" "jl 'd.get(\"bmp_msg_type\")==\"init\" and \"mamori-bgpd\" in str(d)'" 10
wait_for "Peer Up for GoBGP" "jl 'd.get(\"bmp_msg_type\")==\"peer_up\" and d.get(\"peer_ip\")==\"$G\" and d.get(\"peer_asn\")==65070'" 10
wait_for "Route Monitoring pre-policy" "jl 'd.get(\"bmp_msg_type\")==\"route_monitor\" and d.get(\"peer_ip\")==\"$G\" and d.get(\"is_post\")==0'" 10
wait_for "Route Monitoring post-policy" "jl 'd.get(\"bmp_msg_type\")==\"route_monitor\" and d.get(\"peer_ip\")==\"$G\" and d.get(\"is_post\")==1'" 10
check "the FlowSpec rule is in the monitored UPDATE" "grep -q '10.70.0.0/24' '$T/bmp.jsonl'"
wait_for "Statistics Report: Adj-RIB-In routes = 1" \
  "jl 'd.get(\"bmp_msg_type\")==\"stats\" and d.get(\"peer_ip\")==\"$G\" and d.get(\"counter_type\")==7 and d.get(\"counter_value\")==1'" 15
gb neighbor $M reset >/dev/null
wait_for "Peer Down, reason 3 (remote NOTIFICATION)" "jl 'd.get(\"bmp_msg_type\")==\"peer_down\" and d.get(\"peer_ip\")==\"$G\" and d.get(\"reason_type\")==3'" 10
finish
