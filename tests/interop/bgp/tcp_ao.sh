#!/usr/bin/env bash
# TCP-AO (RFC 5925) between two mamori-bgpd, in a network namespace this test
# creates (so the kernel's TCPAO* counters are this test's alone). A is active
# (127.0.15.91, send-id 1, recv-id 2), B passive (127.0.15.92, send-id 2,
# recv-id 1). Checked: with the same key the session establishes and the
# kernel counts verified segments (TCPAOGood); B restarted with another key:
# the kernel drops A's segments (TCPAOBad rises) and no session forms.
# On a kernel without TCP-AO (CONFIG_TCP_AO off: setsockopt ENOPROTOOPT, as
# on the machines this suite runs on today) the AO data path cannot run; what
# is checked instead is that mamori-bgpd refuses to start, with an error that
# names the cause, rather than bringing the session up unprotected. The test
# says so in its output. Any other refusal by the kernel is a failure.
# usage: tcp_ao.sh MAMORI-BGPD MAMORI
BGPD=$1 MAMORI=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
[ "$(id -u)" = 0 ] || skip "a network namespace needs root"
command -v ip >/dev/null || skip "iproute2 is needed"
NS=mmbgp-ao-$$
EXTRA_CLEANUP='for p in $(ip netns pids $NS 2>/dev/null); do kill -CONT $p; kill $p; done
  for _ in $(seq 1 50); do [ -z "$(ip netns pids $NS 2>/dev/null)" ] && break; sleep 0.1; done
  ip netns del $NS 2>/dev/null'
ip netns add $NS || skip "cannot create a network namespace here"
ip -n $NS link set lo up
ip -n $NS addr add 127.0.15.91/8 dev lo 2>/dev/null
A=127.0.15.91 B=127.0.15.92
conf() { # ME PEER ID PASSIVE SNDID RCVID KEY
  cat <<CONF
{"local-as": 65191, "router-id": "$3", "listen-address": "$1", "listen-port": 1179,
 "connect-retry": 1,
 "neighbors": [{"address": "$2", "remote-as": 65191, "port": 1179, "local-address": "$1",
   "passive": $4, "families": ["ipv4-flowspec"],
   "tcp-ao": {"key": "$7", "send-id": $5, "recv-id": $6, "algorithm": "hmac(sha1)"}}]}
CONF
}
conf $A $B 10.0.15.91 false 1 2 "mamori-ao-key-1" >"$T/a.json"
conf $B $A 10.0.15.92 true 2 1 "mamori-ao-key-1" >"$T/b.json"
conf $B $A 10.0.15.92 true 2 1 "some-other-key" >"$T/b-wrong.json"
mkdir -p "$T/a" "$T/b"
# The kernel has no TCP-AO: the daemon that asked for it must not run (a
# session without the configured protection would be a silent downgrade).
no_ao_kernel() { # NAME
  local pid; pid=$(cat "$T/$1.pid")
  wait_for "mamori-bgpd ($1) exits when the kernel cannot set its TCP-AO key" \
    "! kill -0 $pid 2>/dev/null" 10
  check "the error names the cause (kernel without CONFIG_TCP_AO)" \
    "grep -q 'this kernel has no TCP-AO (CONFIG_TCP_AO)' '$T/$1/bgpd.log'"
  check "no control socket: it never served" "[ ! -S '$T/$1/ctl.sock' ]"
  check "it never accepted or made a connection" \
    "! grep -q '\"action\":\"connect\"' '$T/$1/audit.log' 2>/dev/null"
  echo "NOTE: this kernel is built without CONFIG_TCP_AO; the AO data path (matching and" \
       "wrong keys, TCPAOGood/TCPAOBad) was not exercised, only the refusal to run without it"
  finish
}
start_in_ns() { # NAME CONFIG: PID in $T/NAME.pid
  rm -f "$T/$1/ctl.sock" "$T/$1.pid"
  ip netns exec $NS sh -c 'echo $$ >"$0"; exec "$@"' "$T/$1.pid" "$BGPD" --config "$2" \
    --control "$T/$1/ctl.sock" --audit "$T/$1/audit.log" --log-level debug >>"$T/$1/bgpd.log" 2>&1 &
  for _ in $(seq 1 100); do
    [ -S "$T/$1/ctl.sock" ] && return 0
    if grep -q "TCP_AO_ADD_KEY" "$T/$1/bgpd.log" 2>/dev/null; then
      grep "TCP_AO_ADD_KEY" "$T/$1/bgpd.log" | tail -1
      grep -q "Protocol not available" "$T/$1/bgpd.log" && no_ao_kernel "$1"
      echo "FAIL - setsockopt(TCP_AO_ADD_KEY) refused for a reason other than a kernel without TCP-AO"
      exit 1
    fi
    sleep 0.1
  done
  echo "FAIL - $1 did not start"; tail -20 "$T/$1/bgpd.log"; exit 1
}
state_of() { # NAME
  "$MAMORI" bgp --socket "$T/$1/ctl.sock" neighbors --json 2>/dev/null | python3 -c '
import json,sys; print(json.load(sys.stdin)["neighbors"][0]["state"])'
}
# The namespace's own counters (TcpExt: TCPAOGood, TCPAOBad, ...).
ao_counter() {
  ip netns exec $NS cat /proc/net/netstat | awk -v k="$1" '
    /^TcpExt:/ { if (!h) { for (i = 2; i <= NF; i++) n[i] = $i; h = 1 } else for (i = 2; i <= NF; i++) if (n[i] == k) print $i }'
}
start_in_ns b "$T/b.json"
[ -n "$(ao_counter TCPAOGood)" ] || { echo "FAIL - TCP-AO keys accepted but the kernel has no TCPAO counters"; exit 1; }
start_in_ns a "$T/a.json"
wait_for "session Established with matching TCP-AO keys" \
  "[ \"\$(state_of a)\" = Established ] && [ \"\$(state_of b)\" = Established ]" 30
check "the kernel verified TCP-AO MACs (TCPAOGood > 0)" "[ \"\$(ao_counter TCPAOGood)\" -gt 0 ]"
check "no segment failed verification so far (TCPAOBad = 0)" "[ \"\$(ao_counter TCPAOBad)\" = 0 ]"
check "neighbors reports tcp-ao" \
  "\"$MAMORI\" bgp --socket '$T/a/ctl.sock' neighbors --json | grep -q '\"tcp-ao\": true'"

# B comes back with the wrong key: A's SYNs fail verification and are dropped.
kill "$(cat "$T/b.pid")"
wait_for "B stopped" "! kill -0 $(cat "$T/b.pid") 2>/dev/null" 10
wait_for "A noticed (not Established)" "[ \"\$(state_of a)\" != Established ]" 30
bad0=$(ao_counter TCPAOBad)
lines0=$(wc -l <"$T/b/audit.log")
start_in_ns b "$T/b-wrong.json"
wait_for "the kernel drops A's segments signed with the other key (TCPAOBad rises)" \
  "[ \"\$(ao_counter TCPAOBad)\" -gt $bad0 ]" 30
check "no session with mismatched keys (A)" "[ \"\$(state_of a)\" != Established ]"
check "no session with mismatched keys (B)" "[ \"\$(state_of b)\" != Established ]"
check "B (wrong key) never saw a connection from A" \
  "! tail -n +$((lines0 + 1)) '$T/b/audit.log' | grep -q '\"action\":\"connect\"'"
if [ $fails -ne 0 ]; then for n in a b; do echo "--- $n"; tail -15 "$T/$n/bgpd.log"; done; fi
finish
