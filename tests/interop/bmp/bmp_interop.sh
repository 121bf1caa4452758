#!/usr/bin/env bash
# Interop: FRR bgpd (-M bmp) and GoBGP peer with each other over BGP on
# loopback; both stream BMP to mamori-bmpd (live) and to a recorder. Checks
# the decoded values against what the routers themselves report, then
# replays the recorded streams into pmacct pmbmpd and compares every value
# both collectors decode (bmp_compare.py); a synthetic stream carrying every
# statistics registry type is compared the same way. Daemons run in a temp dir on
# unprivileged ports and are stopped by PID.
# usage: bmp_interop.sh MAMORI-BMPD MAMORI BMP-GEN
set -u
BMPD=$1 MAMORI=$2 GEN=$3
HERE=$(cd "$(dirname "$0")" && pwd)
BGPD=/usr/lib/frr/bgpd
skip() { echo "SKIP: $1"; [ "${CI:-}" = true ] && exit 1; exit 77; }
[ -x $BGPD ] || skip "FRR bgpd not installed (package frr)"
command -v gobgpd >/dev/null && command -v gobgp >/dev/null || skip "GoBGP not installed (package gobgpd)"
command -v python3 >/dev/null && command -v jq >/dev/null || skip "python3 and jq are needed"
[ "$(id -u)" = 0 ] || skip "FRR bgpd needs root here (it binds as configured and writes its pid file)"
T=$(mktemp -d)
chmod 755 "$T"
PIDS=()
PMPID=
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  [ -n "$PMPID" ] && kill -9 "$PMPID" 2>/dev/null  # pmbmpd 1.7.7 does not exit on SIGTERM
  [ -s "$T/run/bgpd.pid" ] && kill "$(cat "$T/run/bgpd.pid")" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
fails=0
check() { if eval "$2"; then echo "ok - $1"; else echo "FAIL - $1"; fails=$((fails + 1)); fi; }
wait_for() { # DESCRIPTION COMMAND SECONDS
  local n=$(( ${3:-30} * 10 ))
  for _ in $(seq 1 $n); do eval "$2" && return 0; sleep 0.1; done
  echo "FAIL - timed out waiting for $1"; fails=$((fails + 1)); return 1
}
B=$(( 30000 + ($$ % 3000) * 10 ))   # ports B+1..B+9 for this run
mkdir -p "$T/run" && chmod 777 "$T/run"

# mamori-bmpd, the collector under test.
"$BMPD" --listen 127.0.0.1 --port 0 --port-file "$T/bmpd.port" --jsonl "$T/live.jsonl" --db "$T/bmp.db" \
  --audit "$T/audit.log" --metrics 127.0.0.1:0 2>"$T/bmpd.log" &
PIDS+=($!)
wait_for "mamori-bmpd" "[ -s '$T/bmpd.port' ]" 10 || exit 1
P=$(cat "$T/bmpd.port")
MPORT=$(sed -n 's/.*event=metrics url=http:\/\/127.0.0.1:\([0-9]*\)\/metrics.*/\1/p' "$T/bmpd.log")
# Recorders: the same streams, kept verbatim for the pmbmpd cross-check.
for r in frr gobgp; do
  port=$([ $r = frr ] && echo $((B+5)) || echo $((B+6)))
  python3 "$HERE/bmp_record.py" $port "$T/$r.rec" >"$T/$r.rec.out" &
  PIDS+=($!)
  eval "REC_$r=$!"
  wait_for "recorder $r" "grep -q listening '$T/$r.rec.out'" 10 || exit 1
done

cat >"$T/frr.conf" <<CONF
frr defaults traditional
hostname mamori-lab-frr
log file $T/frr.log informational
route-map NH permit 10
 set ip next-hop 10.0.0.1
exit
router bgp 65001
 bgp router-id 10.0.0.1
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor 127.0.0.2 remote-as 65002
 neighbor 127.0.0.2 port $((B+2))
 address-family ipv4 unicast
  network 192.0.2.0/24
  network 198.51.100.0/24
  neighbor 127.0.0.2 activate
  neighbor 127.0.0.2 route-map NH out
 exit-address-family
 bmp targets collector
  bmp connect 127.0.0.1 port $P min-retry 100 max-retry 1000
  bmp connect 127.0.0.1 port $((B+5)) min-retry 100 max-retry 1000
  bmp listener 127.0.0.1 port $((B+8))
  bmp stats interval 1000
  bmp monitor ipv4 unicast pre-policy
  bmp monitor ipv4 unicast post-policy
  bmp mirror
 exit
exit
CONF
cat >"$T/gobgp.toml" <<CONF
[global.config]
  as = 65002
  router-id = "10.0.0.2"
  port = $((B+2))
  local-address-list = ["127.0.0.2"]
[[bmp-servers]]
  [bmp-servers.config]
    address = "127.0.0.1"
    port = $P
    route-monitoring-policy = "all"
    statistics-timeout = 15
[[bmp-servers]]
  [bmp-servers.config]
    address = "127.0.0.1"
    port = $((B+6))
    route-monitoring-policy = "all"
    statistics-timeout = 15
[[neighbors]]
  [neighbors.config]
    neighbor-address = "127.0.0.1"
    peer-as = 65001
  [neighbors.transport.config]
    local-address = "127.0.0.2"
    remote-port = $((B+1))
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
CONF
$BGPD -d -M bmp -Z -n -S -f "$T/frr.conf" -i "$T/run/bgpd.pid" --vty_socket "$T/run" -A 127.0.0.1 -P 0 \
  -l 127.0.0.1 -p $((B+1)) || { echo "FAIL - FRR bgpd did not start"; exit 1; }
gobgpd -f "$T/gobgp.toml" -p --api-hosts 127.0.0.1:$((B+3)) --pprof-disable >"$T/gobgpd.log" 2>&1 &
GOBGPD=$!
PIDS+=($GOBGPD)
GB() { gobgp -p $((B+3)) "$@"; }
wait_for "BGP session FRR-GoBGP established" "GB neighbor 2>/dev/null | grep -q Establ" 60 || { tail "$T/gobgpd.log"; exit 1; }
# A second mamori-bmpd in active mode: it connects to FRR's `bmp listener` (FRR is up by now;
# started earlier, its reconnect backoff could outlast the wait below on a loaded machine).
"$BMPD" --listen 127.0.0.1 --port 0 --port-file "$T/active.port" --connect 127.0.0.1:$((B+8)) \
  --jsonl "$T/active.jsonl" --audit "$T/active-audit.log" 2>"$T/active.log" &
PIDS+=($!)
GB global rib add 203.0.113.0/24 nexthop 10.0.0.2 community 65002:7 large-community 65002:1:2 \
  || echo "FAIL - gobgp route add"

J=$T/live.jsonl
# Which live session is which router: by the Initiation's sysname.
port_of() { jq -r -s --arg n "$1" 'map(select(.bmp_msg_type=="init" and .bmp_init_info_sysname==$n)) | .[0].bmp_router_port // empty' "$J" 2>/dev/null; }
wait_for "both Initiations" "[ -n \"\$(port_of GoBGP)\" ] && [ -n \"\$(port_of mamori-lab-frr)\" ]" 30
FP=$(port_of mamori-lab-frr) GP=$(port_of GoBGP)
q() { jq -s --argjson p "$1" "map(select(.bmp_router_port==\$p)) | $2" "$J" 2>/dev/null; }
# GoBGP sends statistics every 15 s at the soonest.
wait_for "GoBGP statistics" "[ \"\$(q $GP 'map(select(.bmp_msg_type==\"stats\" and .counter_type==7)) | length')\" -ge 1 ]" 40
wait_for "FRR route monitoring of GoBGP's route" "[ \"\$(q $FP 'map(select(.bmp_msg_type==\"route_monitor\" and .ip_prefix==\"203.0.113.0/24\" and .log_type==\"update\")) | length')\" -ge 1 ]" 30

# FRR's stream.
check "FRR: Initiation sysDescr" "[ \"\$(q $FP 'map(select(.bmp_msg_type==\"init\"))[0].bmp_init_info_sysdescr')\" = '\"FRRouting 8.4.4\"' ] || q $FP 'map(select(.bmp_msg_type==\"init\"))[0].bmp_init_info_sysdescr' | grep -q FRRouting"
check "FRR: Peer Up for GoBGP (AS 65002, BGP id 10.0.0.2, 4-octet AS in both OPENs)" \
  "q $FP 'map(select(.bmp_msg_type==\"peer_up\" and .peer_ip==\"127.0.0.2\" and .peer_asn==65002 and .bgp_id==\"10.0.0.2\" and (.open_recv_caps|test(\"4-octet-as\")) and (.open_sent_caps|test(\"4-octet-as\")))) | length >= 1' | grep -q true"
check "FRR: post-policy route from GoBGP with its communities" \
  "q $FP 'map(select(.bmp_msg_type==\"route_monitor\" and .peer_ip==\"127.0.0.2\" and .is_post==1 and .ip_prefix==\"203.0.113.0/24\" and .comms==\"65002:7\" and .lcomms==\"65002:1:2\" and .bgp_nexthop==\"10.0.0.2\")) | length >= 1' | grep -q true"
for t in 0 2 3 4 5 11 65531; do
  check "FRR: statistic type $t decoded by name" \
    "q $FP 'map(select(.bmp_msg_type==\"stats\" and .counter_type==$t and .counter_name != null and (.counter_value|type)==\"number\")) | length >= 1' | grep -q true"
done
check "FRR: route mirroring of the BGP UPDATE" \
  "q $FP 'map(select(.bmp_msg_type==\"route_mirror\" and .bgp_msg_type==\"update\")) | length >= 1' | grep -q true"
check "FRR: the mirrored UPDATE decoded to GoBGP's route" \
  "q $FP 'map(select(.bmp_msg_type==\"route_mirror\" and .ip_prefix==\"203.0.113.0/24\" and .comms==\"65002:7\")) | length >= 1' | grep -q true"
# GoBGP's stream.
check "GoBGP: Peer Up for FRR (AS 65001, BGP id 10.0.0.1)" \
  "q $GP 'map(select(.bmp_msg_type==\"peer_up\" and .peer_ip==\"127.0.0.1\" and .peer_asn==65001 and .bgp_id==\"10.0.0.1\")) | length >= 1' | grep -q true"
for pol in 0 1; do
  check "GoBGP: route monitoring (is_post=$pol) of FRR's 192.0.2.0/24 with AS_PATH 65001, next hop 10.0.0.1" \
    "q $GP 'map(select(.bmp_msg_type==\"route_monitor\" and .peer_ip==\"127.0.0.1\" and .is_post==$pol and .ip_prefix==\"192.0.2.0/24\" and .as_path==\"65001\" and .bgp_nexthop==\"10.0.0.1\")) | length >= 1' | grep -q true"
done
check "GoBGP: Loc-RIB (RFC 9069 peer type 3) route monitoring" \
  "q $GP 'map(select(.bmp_msg_type==\"route_monitor\" and .peer_type==3 and .peer_asn==65002 and .ip_prefix==\"192.0.2.0/24\")) | length >= 1' | grep -q true"
for t in 7 8 11 12; do
  check "GoBGP: statistic type $t decoded by name" \
    "q $GP 'map(select(.bmp_msg_type==\"stats\" and .counter_type==$t and .counter_name != null)) | length >= 1' | grep -q true"
done
# GoBGP's own view of the session with FRR, compared with the gauges it streams (the last report
# may predate the last change, so wait for a report that matches).
ACC=$(GB neighbor -j | jq '[.[] | select(.conf.neighbor_address=="127.0.0.1") | .afi_safis[0].state.accepted][0] // 0')
RECV=$(GB neighbor -j | jq '[.[] | select(.conf.neighbor_address=="127.0.0.1") | .afi_safis[0].state.received][0] // 0')
check "GoBGP reports routes from FRR (received $RECV, accepted $ACC)" "[ $ACC -ge 2 ]"
wait_for "GoBGP Loc-RIB gauge (type 8) equal to its accepted count ($ACC)" \
  "[ \"\$(q $GP 'map(select(.bmp_msg_type==\"stats\" and .counter_type==8))[-1].counter_value')\" = $ACC ]" 40
check "GoBGP Adj-RIB-In gauge (type 7) >= its received count ($RECV)" \
  "[ \"\$(q $GP 'map(select(.bmp_msg_type==\"stats\" and .counter_type==7))[-1].counter_value')\" -ge $RECV ]"

# Active mode (the collector connects to the router).
wait_for "active-mode session with FRR" "grep -q 'mode=active' $T/active.log" 30
wait_for "FRR Peer Up over the active session" "jq -e -s 'map(select(.bmp_msg_type==\"peer_up\" and .peer_ip==\"127.0.0.2\")) | length >= 1' $T/active.jsonl >/dev/null 2>&1" 30
check "active mode: FRR Initiation received" "jq -e -s 'map(select(.bmp_msg_type==\"init\" and (.bmp_init_info_sysdescr|test(\"FRRouting\")))) | length == 1' $T/active.jsonl >/dev/null"
check "active mode: outbound connection audited" "jq -e -s 'map(select(.action==\"connect-out\" and .decision==\"permit\")) | length >= 1' $T/active-audit.log >/dev/null"

# Store, CLI and metrics.
"$MAMORI" bmp peers --db "$T/bmp.db" --json >"$T/peers.json"
check "store: both monitored peers up" \
  "jq -e '[.peers[] | select(.state==\"up\" and (.peer_ip==\"127.0.0.2\" or .peer_ip==\"127.0.0.1\"))] | length >= 2' $T/peers.json >/dev/null"
"$MAMORI" bmp stats --db "$T/bmp.db" --json >"$T/stats.json"
check "store: latest FRR statistic 65531 and GoBGP statistic 7" \
  "jq -e '[.stats[] | select(.counter_type==65531 or .counter_type==7)] | length >= 2' $T/stats.json >/dev/null"
if command -v curl >/dev/null; then
  curl -sf "http://127.0.0.1:$MPORT/metrics" >"$T/metrics.txt"
  check "metrics: registry-named families from real routers" \
    "grep -q '^mamori_bmp_adj_rib_in_routes{router=\"127.0.0.1\",peer=\"127.0.0.1\",peer_type=\"0\"}' $T/metrics.txt && grep -q '^mamori_bmp_frr_invalid_nexthop_prefixes{router=\"127.0.0.1\",peer=\"127.0.0.2\"' $T/metrics.txt"
fi

# Stop the routers: the recorders see the end of their streams.
kill "$(cat "$T/run/bgpd.pid")"; kill $GOBGPD
wait_for "recorded streams complete" "! kill -0 $REC_frr 2>/dev/null && ! kill -0 $REC_gobgp 2>/dev/null" 20
check "mamori-bmpd saw both sessions end" "[ \$(grep -c 'event=session-end' $T/bmpd.log) -ge 2 ]" || true
wait_for "session ends logged" "[ \$(grep -c 'event=session-end' $T/bmpd.log) -ge 2 ]" 10
check "no decode errors on real streams" "! grep -q 'bmp-bad' $T/bmpd.log"
if [ -n "${MM_BMP_KEEP_CAPTURES:-}" ]; then cp "$T/frr.rec" "$T/gobgp.rec" "$MM_BMP_KEEP_CAPTURES/"; fi

# pmacct pmbmpd on the same streams.
if ! command -v pmbmpd >/dev/null; then
  echo "SKIP: pmbmpd cross-check (package pmacct not installed)"
  [ "${CI:-}" = true ] && fails=$((fails + 1))
else
  pmbmpd -L 127.0.0.1 -l $((B+7)) -o "$T/pm.json" >"$T/pm.log" 2>&1 &
  PMPID=$!
  wait_for "pmbmpd" "grep -q 'waiting for BMP data' $T/pm.log" 10
  # A synthetic stream with every registry type (no router emits types 13-43).
  "$GEN" good 20 "$T/synthetic.rec" || echo "FAIL - bmp-gen"
  n=0
  for r in frr gobgp synthetic; do
    "$MAMORI" bmp replay "$T/$r.rec" --to 127.0.0.1:$((B+7)) 2>/dev/null
    n=$((n + 1))
    wait_for "pmbmpd session $n closed" "[ \$(cat $T/pm.json 2>/dev/null | grep -c log_close) -ge $n ]" 20
    "$MAMORI" bmp decode "$T/$r.rec" >"$T/$r.mm.jsonl" 2>/dev/null || echo "FAIL - mamori bmp decode $r"
    echo "# pmbmpd vs mamori on the $r stream"
    python3 "$HERE/bmp_compare.py" "$T/pm.json" "$T/$r.mm.jsonl" || fails=$((fails + 1))
  done
fi
[ $fails -eq 0 ] || { echo "$fails failure(s)"; tail -20 "$T/bmpd.log"; exit 1; }
echo "all checks passed"
