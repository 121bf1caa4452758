#!/usr/bin/env bash
# Several mamori-bmpd collectors write one PostgreSQL store (a real server:
# Debian's postgresql, initdb in a temp dir, loopback, free port; see
# tests/lib/pg.sh). Checks, with psql on the store:
#  - two collectors (A, B) stream two routers into one database: every
#    statistic, peer up/down and router row is there, with the values the
#    JSON Lines show, each row naming its collector;
#  - PostgreSQL outage, policy drop (C, 1 MiB queue): the router is still read
#    to the end (JSON Lines complete), drops are counted in /metrics, logged
#    and audited, and after PostgreSQL returns the queued rows and new routers
#    are written;
#  - PostgreSQL outage, policy pause (D, 1 MiB queue): reading pauses (logged,
#    audited) and resumes after PostgreSQL returns, and no row is lost.
# usage: bmp_pg.sh MAMORI-BMPD MAMORI BMP-GEN
set -u
BMPD=$1 MAMORI=$2 GEN=$3
. "$MM_SOURCE_ROOT/tests/lib/skip.sh"
. "$MM_SOURCE_ROOT/tests/lib/pg.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/mm-bmp-pg.XXXXXX")
PIDS=
cleanup() {
  for p in $PIDS; do kill "$p" 2>/dev/null; done
  for p in $PIDS; do wait "$p" 2>/dev/null; done
  mm_pg_stop
  rm -rf "$T"
}
trap cleanup EXIT INT TERM
fails=0
ok() { echo "ok - $1"; }
bad() { echo "FAIL - $1"; fails=$((fails + 1)); }
die() { echo "FAIL - $1"; for f in "$T"/*.log "$T"/pg/postgres.log; do [ -f "$f" ] && { echo "--- $f"; tail -15 "$f"; }; done; exit 1; }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
wait_for() { # wait_for DESCRIPTION COMMAND [TRIES of 0.1 s] (bounded poll)
  for _ in $(seq 1 "${3:-300}"); do eval "$2" && return 0; sleep 0.1; done
  bad "timed out waiting for $1"; return 1
}
for tool in jq curl python3 runuser; do command -v $tool >/dev/null || mm_skip "$tool not installed"; done
mm_pg_find
[ -n "$PGBIN" ] || mm_skip "PostgreSQL server binaries (Debian package postgresql) not installed"
PSQL=$PGBIN/psql; [ -x "$PSQL" ] || PSQL=$(command -v psql) || mm_skip "psql not installed"

mm_pg_init "$T/pg" || die "initdb: $(tail -3 "$T/pg/initdb.out")"
mm_pg_start || die "PostgreSQL did not start"
"$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U mamori bmp || die "createdb"
URI=$(mm_pg_uri bmp)
q() { "$PSQL" -X -q -A -t -h 127.0.0.1 -p "$PGPORT" -U mamori -d bmp -c "$1" 2>/dev/null; }
ok "PostgreSQL up on 127.0.0.1:$PGPORT"

start() { # start NAME ARGS...: a collector on a free port; sets PORT_<NAME>
  local n=$1; shift
  "$BMPD" --listen 127.0.0.1 --port 0 --port-file "$T/$n.port" --allow 127.0.0.0/24 \
    --jsonl "$T/$n.jsonl" --audit "$T/$n.audit" --pg "$URI" --collector "$n" "$@" \
    2>"$T/$n.log" &
  PIDS="$PIDS $!"
  wait_for "collector $n" "[ -s '$T/$n.port' ]" || die "collector $n did not start"
  eval "PORT_$n=\$(cat '$T/$n.port')"
}
start A
start B
start C --pg-queue-mb 1 --pg-overflow drop --metrics 127.0.0.1:0
start D --pg-queue-mb 1 --pg-overflow pause
wait_for "A connected to PostgreSQL" "grep -q 'event=store-connected' '$T/A.log'"

# --- two collectors, one store
"$GEN" good 30 "$T/good.bmp" || die "bmp-gen"
"$MAMORI" bmp replay "$T/good.bmp" --to 127.0.0.1:$PORT_A --from 127.0.0.2 --linger 100 2>/dev/null &
RA=$!
"$MAMORI" bmp replay "$T/good.bmp" --to 127.0.0.1:$PORT_B --from 127.0.0.3 --linger 100 2>/dev/null
wait $RA
jstats() { jq -s "map(select(.bmp_router==\"$2\" and .bmp_msg_type==\"stats\")) | length" "$T/$1.jsonl"; }
NA=$(jstats A 127.0.0.2); NB=$(jstats B 127.0.0.3)
[ "$NA" -gt 40 ] && [ "$NA" = "$NB" ] || bad "JSON Lines stats counts: A $NA, B $NB"
wait_for "both routers' stats in PostgreSQL" \
  "[ \"\$(q \"select count(*) from stats where router='127.0.0.2'\")\" = $NA ] && [ \"\$(q \"select count(*) from stats where router='127.0.0.3'\")\" = $NB ]"
check "routers row per collector" \
  "[ \"\$(q \"select string_agg(addr||'='||collector, ',' order by addr) from routers\")\" = '127.0.0.2=A,127.0.0.3=B' ]"
check "stats rows carry their collector" \
  "[ \"\$(q \"select count(*) from stats where (router='127.0.0.2' and collector='A') or (router='127.0.0.3' and collector='B')\")\" = $((NA + NB)) ]"
# Every (peer, type, afi, safi, value) of the JSON Lines is in the store, and nothing else.
jq -r -s 'map(select(.bmp_router=="127.0.0.2" and .bmp_msg_type=="stats")) | .[] |
  [.peer_ip, .counter_type, (.afi // ""), (.safi // ""), (.counter_value // "")] | @tsv' \
  "$T/A.jsonl" | sort >"$T/want.tsv"
q "select peer_ip, type, coalesce(afi::text,''), coalesce(safi::text,''), coalesce(value::text,'')
   from stats where router='127.0.0.2'" | tr '|' '\t' | sort >"$T/got.tsv"
check "stored statistics equal the JSON Lines ($NA rows)" "cmp -s '$T/want.tsv' '$T/got.tsv'"
[ -s "$T/want.tsv" ] || bad "no statistics to compare"
NUP=$(jq -s 'map(select(.bmp_router=="127.0.0.2" and (.bmp_msg_type=="peer_up" or .bmp_msg_type=="peer_down"))) | length' "$T/A.jsonl")
check "peer up/down history ($NUP events per router)" \
  "[ \"\$(q \"select count(*) from peer_events where router in ('127.0.0.2','127.0.0.3')\")\" = $((2 * NUP)) ]"
check "sysname from the Initiation" \
  "[ \"\$(q \"select count(*) from routers where sysname is not null\")\" = 2 ]"
# `mamori bmp stats/peers --pg` read the shared store.
"$MAMORI" bmp stats --pg "$URI" --json >"$T/stats.json" || bad "mamori bmp stats --pg failed"
check "mamori bmp stats --pg: latest value of every statistic of both routers" \
  "[ \"\$(jq '[.stats[] | select(.router==\"127.0.0.2\")] | length' $T/stats.json)\" -gt 40 ] && [ \"\$(jq '[.stats[] | select(.router==\"127.0.0.2\")] | length' $T/stats.json)\" = \"\$(q \"select count(*) from (select distinct peer_ip, peer_type, type, afi, safi from stats where router='127.0.0.2') x\")\" ] && jq -e '[.stats[] | select(.router==\"127.0.0.3\" and .counter_type==7 and (.counter_value|type)==\"number\")] | length == 1' $T/stats.json >/dev/null"
"$MAMORI" bmp peers --pg "$URI" --json >"$T/peers.json" || bad "mamori bmp peers --pg failed"
check "mamori bmp peers --pg: both routers' peers with their up/down counts" \
  "[ \"\$(jq '[.peers[] | select(.router==\"127.0.0.2\" or .router==\"127.0.0.3\")] | length' $T/peers.json)\" = \"\$(q \"select count(*) from peers\")\" ] && [ \"\$(jq '[.peers[] | .ups + .downs] | add' $T/peers.json)\" = $((2 * NUP)) ]"
wait_for "router sessions marked down" \
  "[ \"\$(q \"select count(*) from routers where state='down'\")\" = 2 ]"

# --- outage: PostgreSQL stops while routers stream
mm_pg_stop
wait_for "C notices the outage while idle" "grep -q 'event=store-outage' '$T/C.log'" 200
"$GEN" bench 4000 "$T/bench.bmp" || die "bmp-gen bench"
"$MAMORI" bmp replay "$T/bench.bmp" --to 127.0.0.1:$PORT_C --from 127.0.0.4 --linger 100 2>"$T/replayC.log" \
  || bad "replay into C (drop policy) failed during the outage"
"$MAMORI" bmp replay "$T/bench.bmp" --to 127.0.0.1:$PORT_D --from 127.0.0.6 --linger 100 2>"$T/replayD.log" &
RD=$!
NC=$(jstats C 127.0.0.4)
wait_for "C's JSON Lines complete" "[ \"\$(jstats C 127.0.0.4)\" -ge 18000 ]"
NC=$(jstats C 127.0.0.4)
ok "drop policy: router read to the end during the outage ($NC stats lines)"
check "drop policy: overflow logged" "grep -q 'event=store-overflow policy=drop' '$T/C.log'"
check "drop policy: overflow audited" \
  "jq -e -s 'map(select(.action==\"store-overflow\" and .decision==\"deny\")) | length >= 1' '$T/C.audit' >/dev/null"
check "outage audited" \
  "jq -e -s 'map(select(.action==\"store-outage\")) | length >= 1' '$T/C.audit' >/dev/null"
MP=$(sed -n 's/.*event=metrics url=http:\/\/127.0.0.1:\([0-9]*\)\/metrics.*/\1/p' "$T/C.log")
DROPPED=$(curl -s "http://127.0.0.1:$MP/metrics" | awk '/^mamori_bmp_store_rows_dropped_total /{print $2}')
check "drop policy: drops counted in /metrics ($DROPPED)" "[ \"\${DROPPED:-0}\" != 0 ]"
wait_for "pause policy: reading paused" "grep -q 'event=store-overflow policy=pause' '$T/D.log'"
check "pause policy: pause audited" \
  "jq -e -s 'map(select(.action==\"store-overflow\" and (.reason|test(\"paused\")))) | length == 1' '$T/D.audit' >/dev/null"

# --- PostgreSQL returns on the same port
mm_pg_start "$PGPORT" || die "PostgreSQL did not restart"
wait_for "C recovers" "grep -q 'event=store-recovered' '$T/C.log'" 200
check "recovery audited" \
  "jq -e -s 'map(select(.action==\"store-recovered\")) | length >= 1' '$T/C.audit' >/dev/null"
wait_for "D resumes reading" "grep -q 'event=store-resume' '$T/D.log'" 200
wait $RD || bad "replay into D (pause policy) failed"
wait_for "pause policy: the whole stream read after resuming" "[ \"\$(jstats D 127.0.0.6)\" = 18000 ]"
wait_for "pause policy: every row stored (18000 statistics)" \
  "[ \"\$(q \"select count(*) from stats where router='127.0.0.6'\")\" = 18000 ]" 300
"$MAMORI" bmp replay "$T/good.bmp" --to 127.0.0.1:$PORT_C --from 127.0.0.5 --linger 100 2>/dev/null
wait_for "C writes a new router after the outage" \
  "[ \"\$(q \"select count(*) from stats where router='127.0.0.5'\")\" = $NA ]"
SC=$(q "select count(*) from stats where router='127.0.0.4'")
check "drop policy: rows queued before the overflow were written after recovery ($SC of $NC)" \
  "[ \"\$SC\" -gt 0 ] && [ \"\$SC\" -lt $NC ]"

if [ $fails -ne 0 ]; then
  for f in "$T"/*.log; do echo "--- $f"; tail -8 "$f"; done
  echo "$fails check(s) failed"; exit 1
fi
echo "all PostgreSQL store checks passed"
