#!/usr/bin/env bash
# Add-Path (RFC 7911) live: FRR bgpd sends two paths of one prefix with path
# identifiers (addpath-tx-all-paths) to GoBGP, which negotiated Add-Path
# receive; GoBGP streams its pre-policy Adj-RIB-In to mamori-bmpd. The
# collector learns Add-Path from GoBGP's Peer Up (both OPENs) and must
# decode both paths, each with its own path_id, and no message as bad.
# Daemons in a temp dir on unprivileged ports, stopped by PID.
# usage: bmp_addpath_live.sh MAMORI-BMPD
set -u
BMPD=$1
BGPD=/usr/lib/frr/bgpd
. "$MM_SOURCE_ROOT/tests/lib/skip.sh"
[ -x $BGPD ] || mm_skip "FRR bgpd not installed (package frr)"
command -v gobgpd >/dev/null && command -v gobgp >/dev/null || mm_skip "GoBGP not installed (package gobgpd)"
command -v jq >/dev/null || mm_skip "jq not installed"
[ "$(id -u)" = 0 ] || mm_skip "FRR bgpd needs root here (it binds as configured and writes its pid file)"
T=$(mktemp -d)
chmod 755 "$T"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
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
B=$(( 40000 + ($$ % 2000) * 10 ))   # ports B+1..B+9 for this run
mkdir -p "$T/run" && chmod 777 "$T/run"

"$BMPD" --listen 127.0.0.1 --port 0 --port-file "$T/bmpd.port" --jsonl "$T/live.jsonl" \
  --audit "$T/audit.log" 2>"$T/bmpd.log" &
PIDS+=($!)
wait_for "mamori-bmpd" "[ -s '$T/bmpd.port' ]" 10 || exit 1
P=$(cat "$T/bmpd.port")

# FRR has two paths for 198.51.100.0/24: its own (network) and one learnt from a
# second GoBGP speaker; it sends both to GoBGP with path identifiers.
cat >"$T/frr.conf" <<CONF
frr defaults traditional
hostname mamori-lab-frr-ap
log file $T/frr.log informational
router bgp 65001
 bgp router-id 10.0.0.1
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor 127.0.0.2 remote-as 65002
 neighbor 127.0.0.2 port $((B+2))
 neighbor 127.0.0.3 remote-as 65003
 neighbor 127.0.0.3 port $((B+4))
 address-family ipv4 unicast
  network 198.51.100.0/24
  neighbor 127.0.0.2 activate
  neighbor 127.0.0.2 addpath-tx-all-paths
  neighbor 127.0.0.3 activate
 exit-address-family
exit
CONF
# GoBGP A: receives Add-Path from FRR, streams pre-policy BMP to mamori.
cat >"$T/gobgp-a.toml" <<CONF
[global.config]
  as = 65002
  router-id = "10.0.0.2"
  port = $((B+2))
  local-address-list = ["127.0.0.2"]
[[bmp-servers]]
  [bmp-servers.config]
    address = "127.0.0.1"
    port = $P
    route-monitoring-policy = "pre-policy"
[[neighbors]]
  [neighbors.config]
    neighbor-address = "127.0.0.1"
    peer-as = 65001
  [neighbors.transport.config]
    local-address = "127.0.0.2"
    remote-port = $((B+1))
  [neighbors.add-paths.config]
    receive = true
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
    [neighbors.afi-safis.add-paths.config]
      receive = true
CONF
# GoBGP B: a second path for the same prefix, towards FRR.
cat >"$T/gobgp-b.toml" <<CONF
[global.config]
  as = 65003
  router-id = "10.0.0.3"
  port = $((B+4))
  local-address-list = ["127.0.0.3"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "127.0.0.1"
    peer-as = 65001
  [neighbors.transport.config]
    local-address = "127.0.0.3"
    remote-port = $((B+1))
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
CONF
$BGPD -d -Z -n -S -f "$T/frr.conf" -i "$T/run/bgpd.pid" --vty_socket "$T/run" -A 127.0.0.1 -P 0 \
  -l 127.0.0.1 -p $((B+1)) || { echo "FAIL - FRR bgpd did not start"; exit 1; }
gobgpd -f "$T/gobgp-a.toml" -p --api-hosts 127.0.0.1:$((B+3)) --pprof-disable >"$T/gobgpd-a.log" 2>&1 &
PIDS+=($!)
gobgpd -f "$T/gobgp-b.toml" -p --api-hosts 127.0.0.1:$((B+5)) --pprof-disable >"$T/gobgpd-b.log" 2>&1 &
PIDS+=($!)
GA() { gobgp -p $((B+3)) "$@"; }
GBB() { gobgp -p $((B+5)) "$@"; }
wait_for "GoBGP A - FRR established" "GA neighbor 2>/dev/null | grep -q Establ" 60 || { tail "$T/gobgpd-a.log"; exit 1; }
wait_for "GoBGP B - FRR established" "GBB neighbor 2>/dev/null | grep -q Establ" 60 || exit 1
GBB global rib add 198.51.100.0/24 nexthop 10.0.0.3 || echo "FAIL - gobgp route add"

J=$T/live.jsonl
rm_ap() { jq -s 'map(select(.bmp_msg_type=="route_monitor" and .ip_prefix=="198.51.100.0/24" and .path_id != null))' "$J" 2>/dev/null; }
wait_for "two paths with path ids in mamori's JSON Lines" "[ \"\$(rm_ap | jq 'map(.path_id) | unique | length')\" -ge 2 ]" 30
check "Peer Up: GoBGP receives Add-Path, FRR sends it (both OPENs name add-path)" \
  "jq -e -s 'map(select(.bmp_msg_type==\"peer_up\" and .peer_ip==\"127.0.0.1\" and (.open_sent_caps|test(\"add-path\")) and (.open_recv_caps|test(\"add-path\")))) | length >= 1' $J >/dev/null"
check "two paths of 198.51.100.0/24, distinct path ids, AS paths 65001 and 65001 65003" \
  "[ \"\$(rm_ap | jq -c '[.[] | .as_path] | unique')\" = '[\"65001\",\"65001 65003\"]' ]"
check "no route monitoring decoded as bad" \
  "! grep -q 'event=bmp-bad-message' $T/bmpd.log && [ \"\$(jq -s 'map(select(.bmp_msg_type==\"error\" or .log_type==\"error\")) | length' $J)\" = 0 ]"
# The sender's own view: FRR shows the path id it transmits with addpath-tx-all-paths.
FRR_IDS=$(vtysh --vty_socket "$T/run" -c "show bgp ipv4 unicast 198.51.100.0/24" 2>/dev/null |
  sed -n 's/.*TX-All \([0-9]*\).*/\1/p' | sort -n | tr '\n' ' ')
OUR_IDS=$(rm_ap | jq -r 'map(.path_id) | unique | .[]' | sort -n | tr '\n' ' ')
check "path ids equal FRR's TX-All ids ($FRR_IDS)" "[ -n \"\$FRR_IDS\" ] && [ \"\$FRR_IDS\" = \"\$OUR_IDS\" ]"
[ $fails -eq 0 ] || { tail -5 "$T/bmpd.log"; vtysh --vty_socket "$T/run" -c "show bgp ipv4 unicast 198.51.100.0/24"; exit 1; }
echo "Add-Path live checks passed"
