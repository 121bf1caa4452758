#!/usr/bin/env bash
# Install mode with real traffic. Two network namespaces made here, A
# (10.77.0.1, the sender) and B (10.77.0.2, the protected host) on a veth
# pair. In B: mamori-bgpd with two install-mode peers on B's loopback, GoBGP
# (rules added and deleted at run time) and ExaBGP (a rule with an IFIT EC),
# plus a UDP receiver that counts datagrams per port and records their TOS.
# Checked: a UDP flood matching a discard rule is dropped while other ports
# are untouched; a rate-limit rule lets only a few of a flood through; a
# traffic-marking rule rewrites the DSCP; the IFIT rule gets a named counter
# (`mamori bgp counters`); a withdrawal and a lost session remove their
# nftables rules (traffic passes again); stopping the daemon removes the table.
# usage: nft_netns.sh MAMORI-BGPD MAMORI
BGPD=$1 MAMORI=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
[ "$(id -u)" = 0 ] || skip "network namespaces and nftables need root"
command -v ip >/dev/null && command -v nft >/dev/null || skip "iproute2 and nftables are needed"
command -v gobgpd >/dev/null && command -v exabgp >/dev/null || skip "GoBGP and ExaBGP are needed (packages gobgpd, exabgp)"
NA=mmbgp-a-$$ NB=mmbgp-b-$$ TABLE=mmbgp_test
# Everything started inside the namespaces is stopped through them (ip netns pids is
# scoped to the namespaces this test created), then the namespaces go.
EXTRA_CLEANUP='for ns in $NA $NB; do for p in $(ip netns pids $ns 2>/dev/null); do kill -CONT $p; kill $p; done; done
  for _ in $(seq 1 50); do [ -z "$(ip netns pids $NA 2>/dev/null)$(ip netns pids $NB 2>/dev/null)" ] && break; sleep 0.1; done
  ip netns del $NA 2>/dev/null; ip netns del $NB 2>/dev/null'
ip netns add $NA && ip netns add $NB || skip "cannot create network namespaces here"
ip link add mmbgpa$$ type veth peer name mmbgpb$$ || skip "cannot create a veth pair"
ip link set mmbgpa$$ netns $NA && ip link set mmbgpb$$ netns $NB
ip -n $NA addr add 10.77.0.1/24 dev mmbgpa$$ && ip -n $NA link set mmbgpa$$ up && ip -n $NA link set lo up
ip -n $NB addr add 10.77.0.2/24 dev mmbgpb$$ && ip -n $NB link set mmbgpb$$ up && ip -n $NB link set lo up
inb() { ip netns exec $NB "$@"; }
# Start a daemon in B and learn its own PID (ip netns exec runs it as a child).
inb_bg() { # NAME CMD...: PID in $T/NAME.pid
  local name=$1; shift
  ip netns exec $NB sh -c 'echo $$ >"$0"; exec "$@"' "$T/$name.pid" "$@" &
  wait_for "$name started" "[ -s '$T/$name.pid' ]" 10
}
send() { ip netns exec $NA python3 "$HERE/udp_send.py" 10.77.0.2 "$@"; }
count() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["counts"][sys.argv[2]])' "$T/counts.json" "$1"; }
tos() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tos"][sys.argv[2]])' "$T/counts.json" "$1"; }
chain() { inb nft list chain inet $TABLE flowspec 2>/dev/null; }
# Sequence point: datagrams to 9998 (never filtered) arrive after everything sent before them.
marker() { local want=$(( $(count 9998) + 10 )); send 9998 10; wait_for "marker datagrams" "[ \$(count 9998) -ge $want ]" 10; }

inb python3 "$HERE/udp_count.py" 10.77.0.2 "$T/counts.json" 9995 9996 9997 9998 9999 &
PIDS+=($!)
wait_for "UDP receiver" "[ -s '$T/counts.json' ]" 10

cat >"$T/gobgp.toml" <<CONF
[global.config]
  as = 65073
  router-id = "10.0.0.73"
  port = 1179
  local-address-list = ["127.0.0.3"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "127.0.0.2"
    peer-as = 65072
  [neighbors.transport.config]
    local-address = "127.0.0.3"
    passive-mode = true
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-flowspec"
CONF
inb gobgpd -f "$T/gobgp.toml" --api-hosts 127.0.0.3:50053 --pprof-disable >"$T/gobgpd.log" 2>&1 &
PIDS+=($!)
gb() { inb gobgp -u 127.0.0.3 -p 50053 "$@"; }
cat >"$T/dump.py" <<PY
import os, select
while True:
    r, _, _ = select.select([0], [], [], 1.0)
    if r and not os.read(0, 65536):
        break
PY
cat >"$T/exabgp.conf" <<CONF
neighbor 127.0.0.2 {
  router-id 10.0.0.74; local-address 127.0.0.4; local-as 65074; peer-as 65072; connect 1179;
  family { ipv4 flow; }
  flow {
    route ifit {
      match { destination 10.77.0.2/32; protocol udp; destination-port =9995; }
      then { discard; extended-community [ 0x81aa00011234560f ]; }
    }
  }
}
CONF
inb_bg exabgp env exabgp.daemon.user=root exabgp.tcp.bind= exabgp.log.destination="$T/exabgp.log" \
  exabgp "$T/exabgp.conf" >"$T/exabgp.out" 2>&1
EXA=$(cat "$T/exabgp.pid")
cat >"$T/bgpd.json" <<CONF
{"local-as": 65072, "router-id": "10.0.0.72", "listen-address": "127.0.0.2", "listen-port": 1179,
 "connect-retry": 1, "nft-table": "$TABLE",
 "neighbors": [
   {"address": "127.0.0.3", "remote-as": 65073, "port": 1179, "local-address": "127.0.0.2",
    "families": ["ipv4-flowspec"], "install": true},
   {"address": "127.0.0.4", "remote-as": 65074, "passive": true, "families": ["ipv4-flowspec"],
    "install": true}]}
CONF
inb_bg bgpd "$BGPD" --config "$T/bgpd.json" --control "$T/ctl.sock" --audit "$T/audit.log" \
  --log-level debug >>"$T/bgpd.log" 2>&1
BGPD_PID=$(cat "$T/bgpd.pid")
wait_for "mamori-bgpd control socket" "[ -S '$T/ctl.sock' ]" 10
wait_for "Established with GoBGP" "neighbor_is 127.0.0.3 Established" 30 || finish
wait_for "Established with ExaBGP" "neighbor_is 127.0.0.4 Established" 40 || finish
check "table inet $TABLE exists" "inb nft list table inet $TABLE >/dev/null"

send 9999 20
wait_for "traffic passes before any rule" "[ \$(count 9999) -eq 20 ]" 10

# ExaBGP's rule: discard + IFIT instruction -> dropped, counted in a named counter.
wait_for "IFIT rule installed with a named counter" "chain | grep -q 'dport 9995 counter name \"ifit_'" 15
send 9995 30
marker
check "flood to 9995 (IFIT rule, discard) dropped" "[ \$(count 9995) -eq 0 ]"
check "mamori bgp counters: the IFIT counter saw the 30 packets" \
  "mm counters --json | python3 -c 'import json,sys; c=json.load(sys.stdin)[\"counters\"]; sys.exit(0 if any(x[\"name\"].startswith(\"ifit_\") and x[\"packets\"]==30 for x in c) else 1)'"

# GoBGP: discard UDP to 9999.
gb global rib -a ipv4-flowspec add match destination 10.77.0.2/32 protocol udp destination-port '==9999' then discard >/dev/null
wait_for "discard rule installed" "chain | grep -q 'dport 9999'" 15
base98=$(count 9998)
send 9999 200
send 9998 200
wait_for "200 datagrams to 9998 (no rule) all received" "[ \$(count 9998) -eq $((base98 + 200)) ]" 10
check "UDP flood to 9999 dropped (still 20)" "[ \$(count 9999) -eq 20 ]"
check "nftables counted the 200 dropped datagrams" "chain | grep 'dport 9999' | grep -q 'packets 200 '"

# GoBGP: rate-limit 1000 bytes/s on 9997; a flood of 300 x 500 bytes mostly dropped.
gb global rib -a ipv4-flowspec add match destination 10.77.0.2/32 protocol udp destination-port '==9997' then rate-limit 1000 >/dev/null
wait_for "rate-limit rule installed" "chain | grep -q 'dport 9997.*limit rate over 1000 bytes/second'" 15
send 9997 300 500
marker
n97=$(count 9997)
check "rate-limited flood: some but few of 300 datagrams passed ($n97)" "[ $n97 -ge 1 ] && [ $n97 -lt 100 ]"

# GoBGP: traffic marking DSCP 10 on 9996.
gb global rib -a ipv4-flowspec add match destination 10.77.0.2/32 protocol udp destination-port '==9996' then mark 10 >/dev/null
wait_for "marking rule installed" "chain | grep -q 'dport 9996.*dscp set'" 15
send 9996 5
wait_for "marked datagrams received" "[ \$(count 9996) -eq 5 ]" 10
check "DSCP rewritten to 10 (TOS 40)" "[ \"\$(tos 9996)\" = 40 ]"

# Withdrawal removes the rule: 9999 passes again.
gb global rib -a ipv4-flowspec del match destination 10.77.0.2/32 protocol udp destination-port '==9999' >/dev/null
wait_for "discard rule removed on withdraw" "! chain | grep -q 'dport 9999'" 15
send 9999 20
wait_for "traffic to 9999 passes after the withdrawal" "[ \$(count 9999) -eq 40 ]" 10

# Session loss removes the peer's rules: ExaBGP gone, 9995 passes.
kill $EXA
wait_for "ExaBGP's rule removed on session loss" "! chain | grep -q 'dport 9995'" 15
send 9995 10
wait_for "traffic to 9995 passes after the session loss" "[ \$(count 9995) -eq 10 ]" 10
check "install changes audited" "grep -q '\"install\"' '$T/audit.log'"

# A stopped daemon leaves no table behind.
kill $BGPD_PID
wait_for "table removed when mamori-bgpd stops" "! inb nft list table inet $TABLE >/dev/null 2>&1" 10
finish
