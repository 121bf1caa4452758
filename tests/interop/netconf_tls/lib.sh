# lib.sh - start and stop a real mamori-netconfd for the daemon-level tests.
# Sourced; needs NETCONFD (the binary). Every test gets a temp dir with its
# own PKI and state; the daemon listens on 127.0.0.1, on a port the kernel
# picks (read back from its log), and is killed on exit.
set -uo pipefail

T=$(mktemp -d "${TMPDIR:-/tmp}/mm-nctls-XXXXXX")
DPID=""
PORT=""
cleanup() {
  [ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; [ -f "$T/daemon.log" ] && tail -20 "$T/daemon.log"; exit 1; }

# start_daemon [extra args...]: (re)start on $T/state and $T/pki; sets DPID, PORT.
start_daemon() {
  cat "$T/daemon.log" >> "$T/daemon.old.log" 2>/dev/null
  : > "$T/daemon.log"
  "$NETCONFD" --state-dir "$T/state" --pki-dir "$T/pki" --address 127.0.0.1 --port 0 \
    ${MODULE_DIR:+--module-dir "$MODULE_DIR"} "$@" >>"$T/daemon.log" 2>&1 &
  DPID=$!
  for _ in $(seq 1 200); do
    PORT=$(sed -n 's/.*event=netconfd-ready port=\([0-9]*\).*/\1/p' "$T/daemon.log" | head -1)
    [ -n "$PORT" ] && return 0
    kill -0 "$DPID" 2>/dev/null || fail "daemon exited"
    sleep 0.05
  done
  fail "daemon not ready in 10 s"
}

stop_daemon() {
  if [ -n "$DPID" ]; then
    kill "$DPID" 2>/dev/null
    wait "$DPID" 2>/dev/null
  fi
  DPID=""
}

# finish: stop the daemon cleanly; a sanitizer report in its log is a failure.
finish() {
  stop_daemon
  if grep -q "Sanitizer" "$T/daemon.log"; then
    cat "$T/daemon.log"
    fail "sanitizer report from the daemon"
  fi
}

# nc_admin ARGS...: mamori nc as the PKI's admin against the daemon.
nc_admin() {
  "$MAMORI" nc --host 127.0.0.1 --port "$PORT" --ca "$T/pki/ca.crt" \
    --cert "$T/pki/client.crt" --key "$T/pki/client.key" --rpc-timeout 10 "$@"
}
