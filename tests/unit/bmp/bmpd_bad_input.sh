#!/usr/bin/env bash
# mamori-bmpd with one well-behaved router and one router per kind of bad
# input, all at once on loopback. Checks: every bad stream gets a precise log
# line and an error counter; a stream that can be resynchronised keeps its
# session (the message after the bad one is decoded); the good router's data
# is all there; refusals and session ends are audited; after kill -9 the
# JSON Lines and the SQLite store still hold what was received.
# usage: bmpd_bad_input.sh MAMORI-BMPD MAMORI BMP-GEN
set -u
BMPD=$1 MAMORI=$2 GEN=$3
T=$(mktemp -d)
PID=
cleanup() { [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fails=0
ok() { echo "ok - $1"; }
bad() { echo "FAIL - $1"; fails=$((fails + 1)); }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
for tool in jq sqlite3 curl; do
  command -v $tool >/dev/null || { echo "missing $tool"; [ "${CI:-}" = true ] && exit 1; exit 77; }
done
wait_for() { # wait_for DESCRIPTION COMMAND (bounded poll)
  for _ in $(seq 1 200); do eval "$2" && return 0; sleep 0.05; done
  bad "timed out waiting for $1"; return 1
}

"$BMPD" --listen 127.0.0.1 --port 0 --port-file "$T/port" --allow 127.0.0.0/28 \
  --jsonl "$T/out.jsonl" --db "$T/bmp.db" --audit "$T/audit.log" --metrics 127.0.0.1:0 \
  --log-level info 2>"$T/bmpd.log" &
PID=$!
wait_for "the port file" "[ -s '$T/port' ]" || exit 1
PORT=$(cat "$T/port")
MPORT=$(sed -n 's/.*event=metrics url=http:\/\/127.0.0.1:\([0-9]*\)\/metrics.*/\1/p' "$T/bmpd.log")

# The good router (127.0.0.2) sends 400 messages paced over ~2 s, the bad ones run meanwhile.
"$GEN" good 400 "$T/good.bmp" || exit 1
"$MAMORI" bmp replay "$T/good.bmp" --to 127.0.0.1:$PORT --from 127.0.0.2 --rate 200 --linger 200 \
  2>"$T/good.replay" &
GOOD=$!
i=3
for kind in version short overcap truncpeer trunctlv statsoverrun garbageupdate; do
  "$GEN" bad $kind "$T/$kind.bmp" || exit 1
  "$MAMORI" bmp replay "$T/$kind.bmp" --to 127.0.0.1:$PORT --from 127.0.0.$i --linger 100 2>/dev/null
  i=$((i + 1))
done
# A router outside the allow-list (127.0.0.0/28) is refused before any byte is read.
"$MAMORI" bmp replay "$T/good.bmp" --to 127.0.0.1:$PORT --from 127.0.0.20 2>/dev/null
wait $GOOD || bad "good router replay failed"
wait_for "the good router's session end" "grep -q 'event=session-end router=127.0.0.2' '$T/bmpd.log'"
wait_for "all bad routers' session ends" "[ \$(grep -c 'event=session-end' '$T/bmpd.log') -ge 8 ]"

log=$T/bmpd.log
check "wrong version ends only that session, precisely" \
  "grep -q 'event=bmp-bad-stream router=127.0.0.3:[0-9]* reason=\"unsupported BMP version' $log"
check "length below the header ends only that session" \
  "grep -q 'event=bmp-bad-stream router=127.0.0.4:[0-9]* reason=\"message length below the common header' $log"
check "over-cap message is skipped with a log line" \
  "grep -q 'event=bmp-oversize router=127.0.0.5:[0-9]* type=6 len=2097152 cap=1048576 action=skip' $log"
check "truncated per-peer header is named" \
  "grep -q 'event=bmp-bad-message router=127.0.0.6:[0-9]* type=3 len=36 reason=\"truncated per-peer header\"' $log"
check "truncated TLV is named" \
  "grep -q 'event=bmp-bad-message router=127.0.0.7:[0-9]* type=4 len=12 reason=\"initiation TLV overruns the message\"' $log"
check "overrunning stats count is named" \
  "grep -q 'router=127.0.0.8:[0-9]* type=1 .*reason=\"stats count larger than the records in the message\"' $log"
check "refusal is logged" "grep -q 'event=connect-refused router=127.0.0.20:[0-9]* reason=\"address not in the allow-list\"' $log"

J=$T/out.jsonl
# Resync: routers .5 (over cap) and .6/.7/.8 (bad but framed) reach the message after the bad one.
for r in 5 6 7 8; do
  check "router 127.0.0.$r decoded the message after the bad one" \
    "jq -e -s 'map(select(.bmp_router==\"127.0.0.$r\" and .bmp_init_info_sysname==\"after-bad\")) | length == 1' $J >/dev/null"
done
for r in 3 4; do
  check "router 127.0.0.$r: nothing decoded after the unsyncable header" \
    "jq -e -s 'map(select(.bmp_router==\"127.0.0.$r\" and .bmp_init_info_sysname==\"after-bad\")) | length == 0' $J >/dev/null"
done
# The garbage UPDATE is framed but undecodable: an error line with the reason, then the next message.
check "garbage UPDATE gives an error line" \
  "jq -e -s 'map(select(.bmp_router==\"127.0.0.9\" and .bmp_msg_type==\"error\" and .error==\"route monitoring does not carry one well-formed BGP UPDATE\")) | length == 1' $J >/dev/null"
# The good router: 400 route monitoring prefixes, every registry type once, all message types.
check "good router: 400 route monitoring lines" \
  "[ \$(jq -s 'map(select(.bmp_router==\"127.0.0.2\" and .bmp_msg_type==\"route_monitor\")) | length' $J) = 400 ]"
NTYPES=$("$MAMORI" bmp types --json | jq '.types | length')
check "good router: one stats line per registry type ($NTYPES)" \
  "[ \$(jq -s 'map(select(.bmp_router==\"127.0.0.2\" and .bmp_msg_type==\"stats\")) | length' $J) = $NTYPES ]"
check "good router: every BMP message type present" \
  "[ \$(jq -r -s 'map(select(.bmp_router==\"127.0.0.2\") | .bmp_msg_type) | unique | join(\",\")' $J) = 'init,peer_down,peer_up,route_mirror,route_monitor,stats,term' ]"
check "good router's session ended by itself" \
  "grep -q 'event=session-end router=127.0.0.2:[0-9]* reason=\"closed by the router\"' $log"
check "the refused router produced no line" \
  "[ \$(jq -s 'map(select(.bmp_router==\"127.0.0.20\")) | length' $J) = 0 ]"

# Metrics: error counters by router and reason, registry-named statistics.
curl -sf "http://127.0.0.1:$MPORT/metrics" >"$T/metrics.txt" || bad "metrics endpoint"
check "metrics: error counter for the stats overrun" \
  "grep -q 'mamori_bmp_errors_total{router=\"127.0.0.8\",reason=\"stats count larger than the records in the message\"} 1' $T/metrics.txt"
check "metrics: a registry-named gauge" \
  "grep -q '^mamori_bmp_adj_rib_in_routes{router=\"127.0.0.2\",peer=\"192.0.2.1\",peer_type=\"0\"} 1007' $T/metrics.txt"
check "metrics: a per-AFI/SAFI gauge" \
  "grep -q '^mamori_bmp_rov_notfound_out_afi_safi{router=\"127.0.0.2\",peer=\"192.0.2.1\",peer_type=\"0\",afi=\"2\",safi=\"1\"} 1043' $T/metrics.txt"
check "metrics: refused connection counted" \
  "grep -q 'mamori_bmp_connections_total{result=\"refused\"} 1' $T/metrics.txt"

# kill -9: what was received is on disk.
kill -9 "$PID"; wait "$PID" 2>/dev/null; PID=
check "store: the good router with its sysname" \
  "[ \"\$(sqlite3 $T/bmp.db \"select sysname from routers where addr='127.0.0.2'\")\" = synthetic-router ]"
check "store: every registry type stored for the good router" \
  "[ \$(sqlite3 $T/bmp.db \"select count(distinct s.type) from stats s join peers p on p.id=s.peer_id join routers r on r.id=p.router_id where r.addr='127.0.0.2'\") = $NTYPES ]"
check "store: peer up/down history" \
  "[ \$(sqlite3 $T/bmp.db \"select group_concat(event) from peer_events e join peers p on p.id=e.peer_id where p.peer_ip='2001:db8::2'\") = up,down ]"
"$MAMORI" bmp stats --db "$T/bmp.db" --json >"$T/stats.json" || bad "mamori bmp stats"
check "cli stats: latest value of type 43 (per AFI/SAFI)" \
  "jq -e '.stats[] | select(.router==\"127.0.0.2\" and .counter_type==43 and .afi==2 and .counter_value==1043)' $T/stats.json >/dev/null"
"$MAMORI" bmp peers --db "$T/bmp.db" --json >"$T/peers.json" || bad "mamori bmp peers"
check "cli peers: the Loc-RIB instance with its table name" \
  "jq -e '.peers[] | select(.router==\"127.0.0.2\" and .peer_type==3 and .table_name==\"global\")' $T/peers.json >/dev/null"
# Audit: refusal denied, sessions permitted and ended.
check "audit: refusal recorded as denied" \
  "jq -e -s 'map(select(.action==\"connect\" and .decision==\"deny\" and (.subject|startswith(\"127.0.0.20:\")))) | length == 1' $T/audit.log >/dev/null"
check "audit: 8 connects permitted, 8 session ends" \
  "[ \$(jq -s 'map(select(.action==\"connect\" and .decision==\"permit\")) | length' $T/audit.log) = 8 ] && [ \$(jq -s 'map(select(.action==\"session-end\")) | length' $T/audit.log) = 8 ]"

# JSON Lines rotation: 1 MiB files, 2 kept; no line lost or split across files.
"$GEN" good 4000 "$T/big.bmp" || exit 1
want=$("$MAMORI" bmp decode "$T/big.bmp" 2>/dev/null | wc -l)
"$BMPD" --listen 127.0.0.1 --port 0 --port-file "$T/port2" --jsonl "$T/rot.jsonl" --jsonl-rotate-mb 1 \
  --jsonl-keep 2 --audit "$T/audit2.log" 2>"$T/bmpd2.log" &
PID=$!
wait_for "the second collector" "[ -s '$T/port2' ]" || exit 1
"$MAMORI" bmp replay "$T/big.bmp" --to 127.0.0.1:"$(cat "$T/port2")" 2>/dev/null
wait_for "the rotation run's session end" "grep -q 'event=session-end' '$T/bmpd2.log'"
kill "$PID"; wait "$PID" 2>/dev/null; PID=
check "rotation: FILE.1 exists, every file at most 1 MiB" \
  "[ -s $T/rot.jsonl.1 ] && [ \$(stat -c %s $T/rot.jsonl) -le 1048576 ] && [ \$(stat -c %s $T/rot.jsonl.1) -le 1048576 ]"
got=$(cat "$T"/rot.jsonl* | wc -l)
check "rotation: at most 2 rotated files kept" "[ ! -e $T/rot.jsonl.3 ]"
check "rotation: every file holds whole JSON lines" "cat $T/rot.jsonl* | jq -e . >/dev/null"
check "rotation: all $want lines present (2.3 MB in three files)" "[ $got = $want ] && [ -s $T/rot.jsonl.2 ]"

# Idle timeout: a router that goes silent is disconnected, and the end is audited.
"$BMPD" --listen 127.0.0.1 --port 0 --port-file "$T/port3" --idle-timeout 1 --jsonl "$T/idle.jsonl" \
  --audit "$T/audit3.log" 2>"$T/bmpd3.log" &
PID=$!
wait_for "the idle-timeout collector" "[ -s '$T/port3' ]" || exit 1
"$GEN" bad version "$T/tmp.bmp" || exit 1
# The first message of a bad-kind stream is a complete Initiation ("before-bad"): send just that one.
len=$(od -An -tu1 -j1 -N4 "$T/tmp.bmp" | awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')
head -c "$len" "$T/tmp.bmp" >"$T/one.bmp"
"$MAMORI" bmp replay "$T/one.bmp" --to 127.0.0.1:"$(cat "$T/port3")" --linger 2500 2>/dev/null &
RP=$!
wait_for "the idle session end" "grep -q 'event=session-end .*reason=\"idle timeout (1 s)\"' '$T/bmpd3.log'"
check "idle timeout: the Initiation was decoded first" "grep -q before-bad $T/idle.jsonl"
check "idle timeout: audited" "jq -e -s 'map(select(.action==\"session-end\" and .reason==\"idle timeout (1 s)\")) | length == 1' $T/audit3.log >/dev/null"
wait $RP 2>/dev/null
kill "$PID"; wait "$PID" 2>/dev/null; PID=

# Router limit: with --max-routers 1, a second router is refused while the first is connected.
"$BMPD" --listen 127.0.0.1 --port 0 --port-file "$T/port4" --max-routers 1 --audit "$T/audit4.log" \
  2>"$T/bmpd4.log" &
PID=$!
wait_for "the one-router collector" "[ -s '$T/port4' ]" || exit 1
"$MAMORI" bmp replay "$T/one.bmp" --to 127.0.0.1:"$(cat "$T/port4")" --from 127.0.0.2 --linger 5000 2>/dev/null &
RP=$!
wait_for "the first router's session" "grep -q 'event=session-start router=127.0.0.2' '$T/bmpd4.log'"
"$MAMORI" bmp replay "$T/one.bmp" --to 127.0.0.1:"$(cat "$T/port4")" --from 127.0.0.3 2>/dev/null
wait_for "the refusal" "grep -q 'event=connect-refused router=127.0.0.3:[0-9]* reason=\"router limit reached\"' '$T/bmpd4.log'"
check "router limit: refusal audited" "jq -e -s 'map(select(.decision==\"deny\" and .reason==\"router limit reached\")) | length == 1' $T/audit4.log >/dev/null"
kill "$RP" 2>/dev/null; wait "$RP" 2>/dev/null
kill "$PID"; wait "$PID" 2>/dev/null; PID=

[ $fails -eq 0 ] || { echo "$fails check(s) failed"; echo '--- bmpd log'; tail -40 "$T/bmpd.log"; exit 1; }
echo "all checks passed"
