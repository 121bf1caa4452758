#!/usr/bin/env bash
# RFC 4271 §6.8 connection collision between two mamori-bgpd, both active.
# The collision is made certain rather than hoped for: an nftables rule the
# test owns drops the SYNs between the two addresses while both daemons start
# (each is left with a connection in SYN-SENT), both daemons are stopped, the
# rule goes, and the retransmitted SYNs complete both handshakes in the kernel;
# when the daemons continue, each has its own connection and the other's
# (connect-retry 30 s: its expiry while stopped would replace the connection).
# Expected: the connection initiated by B (higher BGP Identifier) is kept,
# A's is closed with NOTIFICATION Cease / Connection Collision Resolution (6/7).
# usage: collision.sh MAMORI-BGPD MAMORI
BGPD=$1 MAMORI=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
command -v nft >/dev/null && command -v ss >/dev/null || skip "nftables and ss (iproute2) are needed"
A=127.0.15.81 B=127.0.15.82
TBL=mm_bgp_collision_$$
nft add table inet $TBL 2>/dev/null || skip "cannot create an nftables table (not root?)"
EXTRA_CLEANUP="nft delete table inet $TBL 2>/dev/null"
nft add chain inet $TBL out '{ type filter hook output priority 0; }'
nft add rule inet $TBL out ip saddr "{ $A, $B }" ip daddr "{ $A, $B }" tcp dport 1179 \
  'tcp flags & (syn | ack) == syn' drop
conf() { # ME PEER ID
  cat <<CONF
{"local-as": 65181, "router-id": "$3", "listen-address": "$1", "listen-port": 1179,
 "connect-retry": 30, "hold-time": 30,
 "neighbors": [{"address": "$2", "remote-as": 65181, "port": 1179, "local-address": "$1",
                "families": ["ipv4-flowspec"]}]}
CONF
}
conf $A $B 10.0.15.81 >"$T/a.json"
conf $B $A 10.0.15.82 >"$T/b.json"
mkdir "$T/b"
start_bgpd "$T/a.json"
A_PID=$BGPD_PID
"$BGPD" --config "$T/b.json" --control "$T/b/ctl.sock" --audit "$T/b/audit.log" --log-level debug \
  >>"$T/b/bgpd.log" 2>&1 &
B_PID=$!
PIDS+=($B_PID)
mb() { "$MAMORI" bgp --socket "$T/b/ctl.sock" "$@"; }
wait_for "B's control socket" "[ -S '$T/b/ctl.sock' ]" 10 || finish
syn_sent() { ss -Htn state syn-sent src "$1" dst "$2:1179" | grep -q .; }
wait_for "both daemons connecting (SYN-SENT, SYNs dropped)" "syn_sent $A $B && syn_sent $B $A" 20 || finish
kill -STOP $A_PID $B_PID
nft delete table inet $TBL
est() { ss -Htn state established src "$1" dst "$2:1179" | wc -l; }
wait_for "both handshakes completed in the kernel while the daemons are stopped" \
  "[ \$(est $A $B) -ge 1 ] && [ \$(est $B $A) -ge 1 ]" 20 || finish
[ -n "${DEBUG_SS:-}" ] && ss -tn state all "( sport = :1179 or dport = :1179 )" | grep 127.0.15.8
kill -CONT $A_PID $B_PID
b_is() { mb neighbors --json 2>/dev/null | python3 -c '
import json,sys
sys.exit(0 if json.load(sys.stdin)["neighbors"][0]["state"]==sys.argv[1] else 1)' "$1"; }
wait_for "A and B Established" "neighbor_is $B Established && b_is Established" 30 || finish
wait_for "only the connection initiated by B (higher identifier) remains" \
  "[ \$(est $B $A) = 1 ] && [ \$(est $A $B) = 0 ]" 15
check "A (lower identifier) audited the collision and kept the inbound connection" \
  "grep -q '\"collision\".*remote id 10.0.15.82: keep the inbound' '$T/audit.log'"
check "B (higher identifier) audited the collision and kept its own connection" \
  "grep -q '\"collision\".*remote id 10.0.15.81: keep the outbound' '$T/b/audit.log'"
# Which side writes the NOTIFICATION on A's connection depends on which daemon
# reads the other's OPEN first: A (closing its own connection) or B (closing
# the one it did not initiate); either way A's audit has it, sent or received.
check "A's connection was closed with NOTIFICATION Cease / Connection Collision Resolution (6/7)" \
  "grep -Eq '\"notification\".*\"(sent|received) 6/7' '$T/audit.log'"
check "A and B are still Established on the kept connection" \
  "neighbor_is $B Established && b_is Established && [ \$(est $B $A) = 1 ]"
[ $fails -ne 0 ] && { echo "--- B's log"; tail -30 "$T/b/bgpd.log"; }
finish
