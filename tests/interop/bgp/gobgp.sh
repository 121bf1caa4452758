#!/usr/bin/env bash
# Interop with GoBGP: mamori-bgpd (127.0.15.61, active) and gobgpd (127.0.15.62,
# passive) exchange IPv4 and IPv6 FlowSpec with IFIT ECs in both directions,
# checked through `gobgp global rib -j` and `mamori bgp rib --json`; then a
# NOTIFICATION from GoBGP, a hold-timer expiry (gobgpd stopped with SIGSTOP)
# and a restart of gobgpd are each handled; a maximum-prefix overrun sends Cease 1.
# usage: gobgp.sh MAMORI-BGPD MAMORI
BGPD=$1 MAMORI=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
command -v gobgpd >/dev/null && command -v gobgp >/dev/null || skip "GoBGP not installed (package gobgpd)"
M=127.0.15.61 G=127.0.15.62
gb() { gobgp -u $G -p 50062 "$@"; }

cat >"$T/gobgp.toml" <<CONF
[global.config]
  as = 65062
  router-id = "10.0.0.62"
  port = 1179
  local-address-list = ["$G"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "$M"
    peer-as = 65061
  [neighbors.transport.config]
    local-address = "$G"
    remote-port = 1179
    passive-mode = true
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-flowspec"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-flowspec"
CONF
start_gobgpd() {
  gobgpd -f "$T/gobgp.toml" --api-hosts $G:50062 --pprof-disable >>"$T/gobgpd.log" 2>&1 &
  GOBGPD=$!
  PIDS+=($GOBGPD)
}
cat >"$T/bgpd.json" <<CONF
{"local-as": 65061, "router-id": "10.0.0.61", "listen-address": "$M", "listen-port": 1179,
 "connect-retry": 1,
 "neighbors": [{"address": "$G", "remote-as": 65062, "port": 1179, "local-address": "$M",
                "hold-time": 6, "families": ["ipv4-flowspec", "ipv6-flowspec"],
                "max-prefix": {"flow4": 3}}],
 "flowspec": [
  {"family": "ipv4-flowspec", "match": "dst 10.61.0.0/24 proto =17 dport >=1000&<=2000",
   "then": ["rate-bytes 9600", "ifit ioam-preallocated-trace namespace 1 trace-type 0x123456 flags 15"]},
  {"family": "ipv6-flowspec", "match": "dst 2001:db8:61::/48 next-header =17",
   "then": ["discard", "ifit enhanced-alternate-marking flow-mon-id 0x12345 period 10 loss delay"]}]}
CONF
start_gobgpd
start_bgpd "$T/bgpd.json"
wait_for "Established with GoBGP" "neighbor_is $G Established" 30 || finish

# GoBGP's view of what mamori sent: components and every EC byte.
gobgp_has() { # FAMILY PREFIX EC-SPEC... (EC-SPEC = type:subtype:hex-of-6-value-bytes or rate:N)
  gb global rib -a "$1" -j 2>/dev/null | python3 -c '
import json,sys,base64
d=json.load(sys.stdin); fam,prefix=sys.argv[1:3]; want=sys.argv[3:]
for paths in d.values():
  for p in paths:
    comps=p["nlri"]["value"]
    if not any(c["type"]==1 and c["value"]["prefix"]==prefix for c in comps): continue
    ecs=[a for a in p["attrs"] if a["type"]==16]
    ecs=ecs[0]["value"] if ecs else []
    got=[]
    for e in ecs:
      if e.get("type")==128 and e.get("subtype")==6: got.append("rate:%g"%e["rate"])
      elif "value" in e and isinstance(e["value"],str):
        raw=base64.b64decode(e["value"]); got.append("%d:%d:%s"%(e["type"],raw[0],raw[1:].hex()))
      else: got.append(json.dumps(e,sort_keys=True))
    missing=[w for w in want if w not in got]
    if not missing: sys.exit(0)
    print("gobgp has", got, "missing", missing, file=sys.stderr)
sys.exit(1)' "$@"
}
wait_for "flow4 rule with IFIT pre-allocated trace EC at GoBGP (0x81aa 0001 123456 0f)" \
  "gobgp_has ipv4-flowspec 10.61.0.0/24 rate:9600 129:170:00011234560f" 10
wait_for "flow6 rule with IFIT enhanced alternate marking EC at GoBGP (0x81ae 12345 0a c)" \
  "gobgp_has ipv6-flowspec 2001:db8:61::/48 rate:0 129:174:123450ac0000" 10
check "GoBGP decodes the flow4 components as mamori built them" \
  "gb global rib -a ipv4-flowspec | grep -q 'destination: 10.61.0.0/24\]\[protocol: ==udp\]\[destination-port: >=1000&<=2000\]'"

# Rules originated by GoBGP, decoded by mamori.
gb global rib -a ipv4-flowspec add match destination 10.62.0.0/24 protocol tcp destination-port '==80' \
  then rate-limit 1000 mark 10 >/dev/null
gb global rib -a ipv6-flowspec add match destination 2001:db8:62::/48 protocol udp then discard >/dev/null
wait_for "GoBGP flow4 rule decoded by mamori" \
  "rib_has flow4 $G 'dst 10.62.0.0/24 proto =6 dport =80' 'rate-bytes 1000; mark 10'" 10
wait_for "GoBGP flow6 rule decoded by mamori" \
  "rib_has flow6 $G 'dst 2001:db8:62::/48 next-header =17' 'discard'" 10
check "audit has the received rule" "grep -q '\"receive-announce\".*10.62.0.0/24' '$T/audit.log'"

# Run-time announce and withdraw through the CLI.
check "mamori bgp announce" "mm announce --family flow4 --match 'dst 10.61.1.0/24 proto =6 tcp-flags =0x2' \
  --then 'rate-packets 100' --then 'ifit ioam-incremental-trace namespace 2 trace-type 0xf00000 flags 0' >/dev/null"
wait_for "announced rule at GoBGP (incremental trace EC 0x81ab)" \
  "gobgp_has ipv4-flowspec 10.61.1.0/24 129:171:0002f0000000" 10
check "mamori bgp withdraw" "mm withdraw --family flow4 --match 'dst 10.61.1.0/24 proto =6 tcp-flags =0x2' >/dev/null"
wait_for "withdrawn rule gone from GoBGP" "! gb global rib -a ipv4-flowspec | grep -q 10.61.1.0/24" 10
check "withdraw of an unknown rule fails with exit 1" \
  "mm withdraw --match 'dst 10.99.0.0/24' 2>/dev/null; [ \$? -eq 1 ]"
check "bad rule refused with exit 1" "mm announce --match 'dst 10.0.0.0/33' 2>/dev/null; [ \$? -eq 1 ]"

# 1. A NOTIFICATION from the peer (Cease/Administrative Reset).
gb neighbor $M reset >/dev/null
wait_for "NOTIFICATION 6/4 from GoBGP seen (audited)" "grep -q '\"notification\".*received 6/4' '$T/audit.log'" 10
wait_for "re-established after the NOTIFICATION" "neighbor_is $G Established" 20
wait_for "GoBGP rules learnt again" "[ \"\$(rib_count flow4 $G)\" = 1 ]" 10

# 2. Hold timer expiry: gobgpd frozen; mamori (hold 6 s) sends 4/0 and releases its routes.
kill -STOP $GOBGPD
wait_for "hold timer expired, NOTIFICATION 4/0 sent (audited)" "grep -q '\"notification\".*sent 4/0' '$T/audit.log'" 20
check "routes of the silent peer released" "[ \"\$(rib_count flow4 $G)\" = 0 ]"
check "release audited" "grep -q '\"release\".*10.62.0.0/24' '$T/audit.log'"
kill -CONT $GOBGPD
wait_for "re-established after hold expiry" "neighbor_is $G Established" 30

# 3. Peer restart: gobgpd killed and started again; rules flow both ways again.
kill $GOBGPD; wait $GOBGPD 2>/dev/null
wait_for "session down after peer exit" "! neighbor_is $G Established" 10
start_gobgpd
wait_for "re-established with the restarted GoBGP" "neighbor_is $G Established" 30
wait_for "mamori rules re-sent to the restarted peer" \
  "gobgp_has ipv4-flowspec 10.61.0.0/24 rate:9600 129:170:00011234560f" 10

# 4. Maximum prefixes (flow4 limit 3): a fourth rule from GoBGP ends the session
#    with Cease 1 (RFC 4486) carrying AFI 1, SAFI 133 and the limit.
for i in 1 2 3 4; do  # the restarted gobgpd starts empty
  gb global rib -a ipv4-flowspec add match destination 10.62.$i.0/24 then discard >/dev/null
done
wait_for "NOTIFICATION 6/1 sent for the 4th flow4 rule (audited)" "grep -q '\"notification\".*sent 6/1' '$T/audit.log'" 10
check "max-prefix decision audited" "grep -q '\"max-prefix\".*flow4 over 3 routes' '$T/audit.log'"
check "audit log chain verifies" "'$MAMORI' audit verify-log '$T/audit.log' >/dev/null"
finish
