#!/usr/bin/env bash
# NETCONF over TLS and over QUIC across a real (namespaced) network path with
# 20 ms of delay each way and 3% random loss: the client in one namespace,
# mamori-netconfd in another, the delay line and nftables loss between them
# (tests/netns/topo.sh). Needs root (ip netns); under CI that is a given.
# usage: netconf_netns.sh MAMORI NETCONFD DELAYLINE
# SPDX-License-Identifier: Apache-2.0
set -uo pipefail
MAMORI=$(realpath "${1:?usage: netconf_netns.sh MAMORI NETCONFD DELAYLINE}")
NETCONFD=$(realpath "${2:?netconfd}")
DELAYLINE=$(realpath "${3:?delay line}")
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/skip.sh"
[ "$(id -u)" -eq 0 ] || mm_skip "network namespaces need root"
command -v nft >/dev/null || mm_skip "nft (nftables) not installed"

export MM_NS_PREFIX="mmt$$"
T=$(mktemp -d /tmp/mm-netns.XXXXXX)
DL=""; NCD=""
cleanup() {
  [ -n "$NCD" ] && kill "$NCD" 2>/dev/null
  [ -n "$DL" ] && kill "$DL" 2>/dev/null
  wait 2>/dev/null
  bash "$HERE/topo.sh" down
  rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$T/ncd.log" ] && tail -20 "$T/ncd.log"; exit 1; }
ok() { echo "ok: $*"; }

DELAYLINE="$DELAYLINE" bash "$HERE/topo.sh" up || fail "topology"
ip netns exec "$MM_NS_PREFIX-d" "$DELAYLINE" c1 s1 20 & DL=$!
# The path is up once a ping crosses the delay line.
for _ in $(seq 1 50); do
  ip netns exec "$MM_NS_PREFIX-c" ping -c 1 -W 1 10.77.0.2 >/dev/null 2>&1 && break
  kill -0 "$DL" 2>/dev/null || fail "delay line exited"
done

"$MAMORI" pki init --dir "$T/pki" >/dev/null || fail "pki init"
ip netns exec "$MM_NS_PREFIX-s" "$NETCONFD" --state-dir "$T/state" --pki-dir "$T/pki" \
  --address 10.77.0.2 --port 6513 --quic-port 8831 >"$T/ncd.log" 2>&1 & NCD=$!
for _ in $(seq 1 100); do
  grep -q 'netconfd-ready' "$T/ncd.log" && break
  kill -0 "$NCD" 2>/dev/null || fail "netconfd exited"
  sleep 0.1
done
grep -q 'netconfd-ready' "$T/ncd.log" || fail "netconfd not ready"

nc() {
  ip netns exec "$MM_NS_PREFIX-c" "$MAMORI" nc --host 10.77.0.2 --server-name localhost \
    --ca "$T/pki/ca.crt" --cert "$T/pki/client.crt" --key "$T/pki/client.key" \
    --rpc-timeout 20 "$@"
}
# The path really is slow: a ping takes the two delays.
rtt=$(ip netns exec "$MM_NS_PREFIX-c" ping -c 3 -i 0.2 -W 2 10.77.0.2 |
      sed -n 's/.*min\/avg\/max[^=]*= \([0-9.]*\)\/.*/\1/p')
[ -n "$rtt" ] || fail "no ping across the path"
awk -v r="$rtt" 'BEGIN { exit !(r >= 35) }' || fail "delay line not in the path (rtt $rtt ms)"
ok "path up, min rtt $rtt ms"
bash "$HERE/topo.sh" loss 3 || fail "loss rule"

cat > "$T/edit.xml" <<'XML'
<nacm xmlns="urn:ietf:params:xml:ns:yang:ietf-netconf-acm"><enable-nacm>true</enable-nacm><groups><group><name>netns-test</name><user-name>nobody-here</user-name></group></groups></nacm>
XML
for tr in "tls --port 6513" "quic --port 8831"; do
  name=${tr%% *}
  nc --transport $tr get-config >"$T/$name.cfg" 2>"$T/$name.err" ||
    { cat "$T/$name.err"; fail "$name: get-config"; }
  grep -q 'ietf-netconf-acm' "$T/$name.cfg" || fail "$name: get-config returned no NACM"
  nc --transport $tr edit-config --target candidate --config "$T/edit.xml" >/dev/null \
    2>"$T/$name.err" || { cat "$T/$name.err"; fail "$name: edit-config"; }
  nc --transport $tr commit >/dev/null 2>"$T/$name.err" || { cat "$T/$name.err"; fail "$name: commit"; }
  nc --transport $tr get-config >"$T/$name.after" 2>/dev/null || fail "$name: get-config after"
  grep -q 'netns-test' "$T/$name.after" || fail "$name: committed change not visible"
  ok "$name: get-config, edit-config, commit across 40 ms rtt and 3% loss"
done
kill -0 "$NCD" || fail "netconfd died"
echo "PASS"
