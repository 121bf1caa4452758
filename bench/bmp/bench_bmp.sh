#!/usr/bin/env bash
# bench-bmp: BMP messages per second on one core, mamori-bmpd against pmacct
# pmbmpd on the same capture in the same run.
#
# Feeds: (1) synthesized volume: one Peer Up, then N messages, 9 of 10 Route
# Monitoring (IPv4 UPDATE with AS_PATH, communities, extended and large
# communities) and 1 of 10 Statistics Reports with every registry type;
# (2) the FRR and GoBGP captures of the interop test (tests/fuzz/corpus/bmp_msg)
# repeated (N/10 messages). A repeated capture replays one session's Peer Ups,
# Peer Downs and Route Mirroring over and over, which pmbmpd handles slowly and
# with growing memory: read those lines as "real message mix", not as a fair
# steady-state comparison. Each collector gets the stream over loopback from
# `mamori bmp replay` (as fast as it goes); we wait until it has written its
# last line (session closed), then read the CPU time (user+sys, all threads)
# and peak RSS of the collector from /proc. msgs/s = messages / CPU seconds.
# Memory: peak RSS for N and 4N messages (flat means independent of N).
# Outputs: mamori JSON Lines, mamori JSON Lines + SQLite, pmbmpd JSON file.
set -uo pipefail
BMPD=@BMPD@ MAMORI=@MAMORI@ GEN=@GEN@ SRC=@SRC@
N=${BENCH_BMP_MESSAGES:-200000}
T=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$T"' EXIT
command -v pmbmpd >/dev/null || { echo "bench-bmp: pmbmpd (package pmacct) not installed: no peer to compare"; exit 1; }

cpu_s() { # utime+stime of PID in seconds
  awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"
}
hwm_kb() { awk '/VmHWM/ { print $2 }' "/proc/$1/status"; }
wait_until() { for _ in $(seq 1 6000); do eval "$1" && return 0; sleep 0.05; done; echo "bench-bmp: timeout: $1" >&2; return 1; }

# run_mamori FILE MESSAGES LABEL [--db]: prints "cpu_s rss_kb"
run_mamori() {
  local file=$1 extra=${4:-}
  rm -f "$T/m.jsonl" "$T/m.db"* "$T/m.log" "$T/port"
  "$BMPD" --listen 127.0.0.1 --port 0 --port-file "$T/port" --jsonl "$T/m.jsonl" --audit "$T/audit.log" \
    ${extra:+--db "$T/m.db"} --log-level info 2>"$T/m.log" &
  PID=$!
  wait_until "[ -s $T/port ]" || return 1
  local c0; c0=$(cpu_s $PID)
  "$MAMORI" bmp replay "$file" --to 127.0.0.1:"$(cat "$T/port")" 2>/dev/null
  wait_until "grep -q event=session-end $T/m.log" || return 1
  local c1 rss; c1=$(cpu_s $PID); rss=$(hwm_kb $PID)
  kill $PID; wait $PID 2>/dev/null; PID=
  echo "$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }') $rss $(wc -l <"$T/m.jsonl")"
}

run_pmbmpd() {
  local file=$1 port=$(( 40000 + $$ % 20000 ))
  rm -f "$T/p.json" "$T/p.log"
  pmbmpd -L 127.0.0.1 -l $port -o "$T/p.json" >"$T/p.log" 2>&1 &
  PID=$!
  wait_until "grep -q 'waiting for BMP data' $T/p.log" || return 1
  local c0; c0=$(cpu_s $PID)
  "$MAMORI" bmp replay "$file" --to 127.0.0.1:$port 2>/dev/null
  wait_until "grep -q log_close $T/p.json 2>/dev/null" || return 1
  local c1 rss; c1=$(cpu_s $PID); rss=$(hwm_kb $PID)
  kill -9 $PID; wait $PID 2>/dev/null; PID=  # pmbmpd 1.7.7 does not exit on SIGTERM
  echo "$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }') $rss $(wc -l <"$T/p.json")"
}

report() { # LABEL MESSAGES "cpu rss lines" (mamori) "cpu rss lines" (pmbmpd) [mamori-db]
  local label=$1 n=$2
  read -r mc mr ml <<<"$3"; read -r pc pr pl <<<"$4"; read -r dc dr dl <<<"$5"
  awk -v l="$label" -v n="$n" -v mc="$mc" -v pc="$pc" -v dc="$dc" -v mr="$mr" -v pr="$pr" -v dr="$dr" \
      -v ml="$ml" -v pl="$pl" 'BEGIN {
    m = (mc > 0) ? n / mc : 0; p = (pc > 0) ? n / pc : 0; d = (dc > 0) ? n / dc : 0
    printf "%-28s %9d msgs  mamori jsonl %10.0f msg/s (%6.2f cpu s, %6d KiB, %d lines)\n", l, n, m, mc, mr, ml
    printf "%-28s %9s       mamori jsonl+sqlite %10.0f msg/s (%6.2f cpu s, %6d KiB)\n", "", "", d, dc, dr
    printf "%-28s %9s       pmbmpd json  %10.0f msg/s (%6.2f cpu s, %6d KiB, %d lines)\n", "", "", p, pc, pr, pl
    if (p > 0) printf "%-28s %9s       ratio mamori/pmbmpd: jsonl %.1fx, jsonl+sqlite %.1fx\n", "", "", m / p, d / p
  }'
}

echo "bench-bmp: N=$N messages per synthesized feed; one core each; CPU time of the collector process"
for n in $N $((4 * N)); do
  "$GEN" bench "$n" "$T/feed.bmp" || exit 1
  msgs=$((n + 2))
  report "synthesized (90% RM/10% SR)" $msgs "$(run_mamori "$T/feed.bmp" $msgs x)" \
    "$(run_pmbmpd "$T/feed.bmp")" "$(run_mamori "$T/feed.bmp" $msgs x --db)"
done
# Real captures: FRR (stats every second, mirroring) and GoBGP (RM incl. Loc-RIB), repeated.
for cap in frr gobgp; do
  f=$SRC/tests/fuzz/corpus/bmp_msg/$cap-capture.bin
  [ -f "$f" ] || continue
  per=$("$MAMORI" bmp decode "$f" 2>&1 >/dev/null | awk '{ print $3 }')
  reps=$(( N / per / 10 ))  # a tenth of N: pmbmpd is slow on these (see docs/bmpd.md)
  [ $reps -ge 1 ] || reps=1
  for _ in $(seq 1 $reps); do cat "$f"; done >"$T/cap.bmp"
  msgs=$((per * reps))
  report "$cap capture x$reps" $msgs "$(run_mamori "$T/cap.bmp" $msgs x)" "$(run_pmbmpd "$T/cap.bmp")" \
    "$(run_mamori "$T/cap.bmp" $msgs x --db)"
done
