#!/usr/bin/env bash
# tests/netns/topo.sh up|down|loss PCT|noloss - the benchmark topology.
#
#   ns mmq-c (client)  c0 10.77.0.1/24 ── c1 ┐
#                                            ├─ ns mmq-d: delay line (AF_PACKET bridge)
#   ns mmq-s (server)  s0 10.77.0.2/24 ── s1 ┘
#
# The delay line (bench-netconf-quic-vs-tls, or mm-delayline) runs in mmq-d
# between c1 and s1. Loss is nftables "numgen random mod 100 < PCT drop" on
# both directions inside mmq-s (the kernel has no netem). Only addresses
# inside these namespaces are used.
# MM_NS_PREFIX renames the namespaces (default mmq: mmq-c, mmq-s, mmq-d), so
# a test can build its own copy beside a running benchmark.
set -euo pipefail
cmd=${1:?usage: topo.sh up|down|loss PCT|noloss}
P=${MM_NS_PREFIX:-mmq}
case "$cmd" in
up)
  for n in "$P-c" "$P-s" "$P-d"; do ip netns add "$n"; done
  ip link add c0 netns "$P-c" type veth peer name c1 netns "$P-d"
  ip link add s0 netns "$P-s" type veth peer name s1 netns "$P-d"
  ip -n "$P-c" addr add 10.77.0.1/24 dev c0
  ip -n "$P-s" addr add 10.77.0.2/24 dev s0
  for n in "$P-c" "$P-s" "$P-d"; do ip -n "$n" link set lo up; done
  ip -n "$P-c" link set c0 up
  ip -n "$P-s" link set s0 up
  ip -n "$P-d" link set c1 up
  ip -n "$P-d" link set s1 up
  # No checksum offload on the end hosts: frames copied by the delay line
  # must carry finished checksums (DELAYLINE: the mm-delayline program).
  if [ -n "${DELAYLINE:-}" ]; then
    ip netns exec "$P-c" "$DELAYLINE" --no-offload c0
    ip netns exec "$P-s" "$DELAYLINE" --no-offload s0
  fi
  ;;
down)
  for n in "$P-c" "$P-s" "$P-d"; do ip netns del "$n" 2>/dev/null || true; done
  ;;
loss)
  pct=${2:?loss PCT}
  ip netns exec "$P-s" nft -f - <<NFT
table inet mmqloss
delete table inet mmqloss
table inet mmqloss {
  chain in  { type filter hook input priority 0; numgen random mod 100 < $pct drop; }
  chain out { type filter hook output priority 0; numgen random mod 100 < $pct drop; }
}
NFT
  ;;
noloss)
  ip netns exec "$P-s" nft delete table inet mmqloss 2>/dev/null || true
  ;;
*)
  echo "usage: topo.sh up|down|loss PCT|noloss" >&2; exit 2 ;;
esac
