#!/usr/bin/env bash
# RFC 8955 §6 validation (per-neighbor "validate": true) against GoBGP: a
# FlowSpec rule whose destination is covered by GoBGP's own unicast route is
# feasible; one with no unicast route behind it, and one whose unicast route
# comes from another neighbor (mamori's second peer, a second GoBGP), are
# kept but marked invalid (not best, audited as such, counted).
# usage: validate.sh MAMORI-BGPD MAMORI
BGPD=$1 MAMORI=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
command -v gobgpd >/dev/null && command -v gobgp >/dev/null || skip "GoBGP not installed (package gobgpd)"
M=127.0.15.71 G1=127.0.15.72 G2=127.0.15.73
for g in 1 2; do
  addr=$([ $g = 1 ] && echo $G1 || echo $G2)
  cat >"$T/gobgp$g.toml" <<CONF
[global.config]
  as = 6507$((g + 1))
  router-id = "10.0.0.7$((g + 1))"
  port = 1179
  local-address-list = ["$addr"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "$M"
    peer-as = 65071
  [neighbors.transport.config]
    local-address = "$addr"
    passive-mode = true
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-flowspec"
CONF
  gobgpd -f "$T/gobgp$g.toml" --api-hosts $addr:5007$g --pprof-disable >"$T/gobgpd$g.log" 2>&1 &
  PIDS+=($!)
done
g1() { gobgp -u $G1 -p 50071 "$@"; }
g2() { gobgp -u $G2 -p 50072 "$@"; }
cat >"$T/bgpd.json" <<CONF
{"local-as": 65071, "router-id": "10.0.0.71", "listen-address": "$M", "listen-port": 1179,
 "connect-retry": 1,
 "neighbors": [
   {"address": "$G1", "remote-as": 65072, "port": 1179, "local-address": "$M", "validate": true,
    "families": ["ipv4-unicast", "ipv4-flowspec"]},
   {"address": "$G2", "remote-as": 65073, "port": 1179, "local-address": "$M",
    "families": ["ipv4-unicast"]}]}
CONF
start_bgpd "$T/bgpd.json"
wait_for "Established with both GoBGPs" "neighbor_is $G1 Established && neighbor_is $G2 Established" 30 || finish
g1 global rib add 10.72.0.0/16 nexthop 10.0.0.72 >/dev/null
g2 global rib add 10.73.0.0/16 nexthop 10.0.0.73 >/dev/null
wait_for "unicast routes learnt" "[ \"\$(rib_count v4 $G1)\" = 1 ] && [ \"\$(rib_count v4 $G2)\" = 1 ]" 10
g1 global rib -a ipv4-flowspec add match destination 10.72.5.0/24 then discard >/dev/null
g1 global rib -a ipv4-flowspec add match destination 10.99.0.0/24 then discard >/dev/null
g1 global rib -a ipv4-flowspec add match destination 10.73.5.0/24 then discard >/dev/null
wait_for "three rules received" "[ \"\$(rib_count flow4 $G1)\" = 3 ]" 10
valid_is() { # MATCH true|false
  mm rib --family flow4 --json | python3 -c '
import json,sys
r=[x for x in json.load(sys.stdin)["routes"] if x["match"]==sys.argv[1]]
sys.exit(0 if r and str(r[0]["valid"]).lower()==sys.argv[2] and str(r[0]["best"]).lower()==sys.argv[2] else 1)' "$1" "$2"
}
check "rule covered by the same neighbor's unicast route is valid" "valid_is 'dst 10.72.5.0/24' true"
check "rule without a unicast route is invalid" "valid_is 'dst 10.99.0.0/24' false"
check "rule whose unicast route is another neighbor's is invalid" "valid_is 'dst 10.73.5.0/24' false"
check "invalid rules counted" "[ \"\$(neighbor_field $G1 rules-invalid)\" = 2 ]"
check "refusal reason audited" "grep -q '\"receive-announce\".*10.73.5.0/24.*best unicast route comes from another neighbour' '$T/audit.log'"
finish
