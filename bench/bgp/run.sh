#!/usr/bin/env bash
# bench/bgp: the same feed (N_UNICAST IPv4 /24s + N_FLOW FlowSpec rules, one
# eBGP session from feeder.py) into mamori-bgpd, BIRD and GoBGP, one after the
# other in the same run; for each: seconds from the session being up (the
# feed is prebuilt) to "all routes
# in the receiver's table" (polled every 0.2 s through its own CLI) and the
# receiver's peak RSS (VmHWM), and the CPU seconds (user+system) the receiver
# spent in that interval - the figure least disturbed by other load on the
# host and by the polling. Every receiver is polled the same way: its own CLI
# every 0.02 s, the count extracted with awk (a Python start-up per poll would
# cost more than the interval). Prints a table and the ratios.
# usage: run.sh BUILD-DIR [N_UNICAST] [N_FLOW]    (defaults 900000 100000)
# BENCH_PEERS="bird gobgp" (default) chooses the comparison receivers.
set -u
B=$1 NU=${2:-900000} NF=${3:-100000}
BGPD=$B/src/bgp/daemon/mamori-bgpd MAMORI=$B/src/cli/mamori
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; [ -s "$T/bird.pid" ] && kill "$(cat "$T/bird.pid")" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
TOTAL=$((NU + NF))
now() { date +%s.%N; }
hwm() { awk '/VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null; }
# utime + stime in clock ticks (fields 14 and 15 of /proc/PID/stat; the name
# field has no spaces for these daemons).
cpu() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null; }
HZ=$(getconf CLK_TCK)
measure() { # NAME PID COUNT-COMMAND
  local name=$1 pid=$2 cnt=$3 t0 t1 c0 c1 n=0
  python3 "$HERE/feeder.py" 127.0.0.80 "$ADDR" 1179 "$PEER_AS" "$NU" "$NF" >"$T/feeder-$name.log" 2>&1 &
  local fp=$!
  PIDS+=($fp)
  # The clock starts when the session is up and the prebuilt feed starts to flow.
  for _ in $(seq 1 3000); do grep -q established "$T/feeder-$name.log" && break; sleep 0.05; done
  t0=$(now) c0=$(cpu "$pid")
  for _ in $(seq 1 60000); do
    n=$(eval "$cnt" 2>/dev/null || echo 0)
    [ "${n:-0}" -ge "$TOTAL" ] && break
    sleep 0.02
  done
  t1=$(now) c1=$(cpu "$pid")
  local rss
  rss=$(hwm "$pid")
  kill $fp 2>/dev/null; wait $fp 2>/dev/null
  local cs
  cs=$(echo "scale=2; ($c1 - $c0) / $HZ" | bc)
  printf '%-12s %10s routes %8.2f s  cpu %7.2f s  peak RSS %8.1f MiB\n' "$name" "$n" "$(echo "$t1 - $t0" | bc)" "$cs" "$(echo "$rss / 1024" | bc -l)"
  echo "$name $(echo "$t1 - $t0" | bc) $rss $n $cs" >>"$T/results"
}

# mamori-bgpd
cat >"$T/m.json" <<CONF
{"local-as": 65081, "router-id": "10.0.0.81", "listen-address": "127.0.0.81", "listen-port": 1179,
 "neighbors": [{"address": "127.0.0.80", "remote-as": 65100, "passive": true,
   "families": ["ipv4-unicast", "ipv4-flowspec"]}]}
CONF
"$BGPD" --config "$T/m.json" --control "$T/ctl.sock" --audit "$T/audit.log" --log-level warn 2>"$T/bgpd.log" &
MP=$!; PIDS+=($MP)
for _ in $(seq 1 100); do [ -S "$T/ctl.sock" ] && break; sleep 0.1; done
ADDR=127.0.0.81 PEER_AS=65081
# The PREFIXES column reads "v4=N flow4=M".
measure mamori-bgpd $MP "\"$MAMORI\" bgp --socket $T/ctl.sock neighbors | awk 'NR == 2 { for (i = 4; i <= NF; i++) if (split(\$i, f, \"=\") == 2) s += f[2] } END { print s + 0 }'"
kill $MP

# BIRD
PEERS=${BENCH_PEERS:-bird gobgp}
if command -v bird >/dev/null && [[ " $PEERS " == *" bird "* ]]; then
cat >"$T/bird.conf" <<CONF
router id 10.0.0.83;
flow4 table f4;
protocol device {}
protocol bgp feeder {
  local 127.0.0.83 port 1179 as 65083;
  neighbor 127.0.0.80 as 65100;
  passive on; multihop; strict bind yes;
  ipv4 { import all; export none; };
  flow4 { table f4; import all; export none; };
}
CONF
bird -c "$T/bird.conf" -s "$T/bird.ctl" -P "$T/bird.pid"
for _ in $(seq 1 100); do [ -s "$T/bird.pid" ] && break; sleep 0.1; done
ADDR=127.0.0.83 PEER_AS=65083
measure bird "$(cat "$T/bird.pid")" "birdc -s $T/bird.ctl show protocols all feeder | awk '/Routes:/ {s+=\$2} END {print s+0}'"
kill "$(cat "$T/bird.pid")"
fi

# GoBGP
if command -v gobgpd >/dev/null && [[ " $PEERS " == *" gobgp "* ]]; then
cat >"$T/gobgp.toml" <<CONF
[global.config]
  as = 65082
  router-id = "10.0.0.82"
  port = 1179
  local-address-list = ["127.0.0.82"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "127.0.0.80"
    peer-as = 65100
  [neighbors.transport.config]
    local-address = "127.0.0.82"
    passive-mode = true
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-flowspec"
CONF
gobgpd -f "$T/gobgp.toml" --api-hosts 127.0.0.82:50082 --pprof-disable -l warn >"$T/gobgpd.log" 2>&1 &
GP=$!; PIDS+=($GP)
sleep 1
ADDR=127.0.0.82 PEER_AS=65082
measure gobgp $GP "gobgp -u 127.0.0.82 -p 50082 neighbor 127.0.0.80 -j | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(a.get(\"state\",{}).get(\"received\",0) for a in d.get(\"afi_safis\",[])))'"
kill $GP
fi

echo "feed: $NU unicast + $NF FlowSpec routes"
python3 - "$T/results" <<'PY'
import sys
r = {l.split()[0]: l.split()[1:] for l in open(sys.argv[1])}
m = r.get("mamori-bgpd")
for k, v in r.items():
    if k == "mamori-bgpd" or not m:
        continue
    print("%-8s time ratio mamori/%s = %.2f   CPU ratio = %.2f   RSS ratio = %.2f" %
          (k, k, float(m[0]) / float(v[0]), float(m[3]) / max(float(v[3]), 0.01),
           float(m[1]) / float(v[1])))
PY
