# Shared by the mamori-bgpd interop tests (sourced). Each test starts its
# peer and mamori-bgpd on its own 127.0.15.x pair, port 1179, in a temp dir,
# and stops them by PID on exit. Usage from a test: BGPD=... MAMORI=... then
# `. lib.sh`.
set -u
skip() { echo "SKIP: $1"; [ "${CI:-}" = true ] && exit 1; exit 77; }
command -v python3 >/dev/null || skip "python3 is needed"
T=$(mktemp -d)
chmod 755 "$T"
PIDS=()
EXTRA_CLEANUP=:
cleanup() {
  eval "$EXTRA_CLEANUP"
  # SIGCONT first (a test may have stopped its peer), then SIGTERM. A SIGCONT
  # after the SIGTERM can land while an ASan build runs LeakSanitizer at exit
  # and discard the SIGSTOP its ptrace attach is waiting for: both hang.
  for p in "${PIDS[@]}"; do kill -CONT "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  if [ -n "${KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
fails=0
check() { if eval "$2"; then echo "ok - $1"; else echo "FAIL - $1"; fails=$((fails + 1)); fi; }
wait_for() { # DESCRIPTION COMMAND SECONDS
  local n=$(( ${3:-30} * 10 ))
  for _ in $(seq 1 $n); do eval "$2" && { echo "ok - $1"; return 0; }; sleep 0.1; done
  echo "FAIL - timed out waiting for $1"; fails=$((fails + 1)); return 1
}
finish() {
  if [ $fails -ne 0 ]; then
    echo "--- mamori-bgpd log"; tail -40 "$T/bgpd.log"
    echo "$fails check(s) failed"; exit 1
  fi
  echo "all checks passed"; exit 0
}
mm() { "$MAMORI" bgp --socket "$T/ctl.sock" "$@"; }
start_bgpd() { # CONFIG-FILE
  "$BGPD" --config "$1" --control "$T/ctl.sock" --audit "$T/audit.log" --log-level debug \
    >>"$T/bgpd.log" 2>&1 &
  BGPD_PID=$!
  PIDS+=($BGPD_PID)
  wait_for "mamori-bgpd control socket" "[ -S '$T/ctl.sock' ]" 10
}
# neighbor_is ADDR STATE: the state mamori reports for a neighbor.
neighbor_is() {
  mm neighbors --json 2>/dev/null | python3 -c '
import json,sys
d=json.load(sys.stdin)
sys.exit(0 if any(n["address"]==sys.argv[1] and n["state"]==sys.argv[2] for n in d["neighbors"]) else 1)' "$1" "$2"
}
neighbor_field() { # ADDR FIELD
  mm neighbors --json 2>/dev/null | python3 -c '
import json,sys
d=json.load(sys.stdin)
for n in d["neighbors"]:
    if n["address"]==sys.argv[1]: print(n.get(sys.argv[2],""))' "$1" "$2"
}
# rib_has FAMILY PEER MATCH ACTIONS-SUBSTRING: a route from PEER with exactly MATCH.
rib_has() {
  mm rib --family "$1" --json 2>/dev/null | python3 -c '
import json,sys
d=json.load(sys.stdin)
fam,peer,match,act=sys.argv[1:5]
sys.exit(0 if any(r["peer"]==peer and r.get("match")==match and act in r.get("actions","") for r in d["routes"]) else 1)' "$@"
}
rib_count() { # FAMILY PEER
  mm rib --family "$1" --json 2>/dev/null | python3 -c '
import json,sys
print(sum(1 for r in json.load(sys.stdin)["routes"] if r["peer"]==sys.argv[1]))' "$2"
}
