# lib_transport.sh - lib.sh plus a QUIC endpoint and scripted sessions
# (tests/interop/netconf_tls/nc_session.c) for the transport tests of issue 10.
# Sourced; needs NETCONFD, MAMORI and NC_SESSION.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# start_daemon_quic [extra args...]: as start_daemon, with a NETCONF-over-QUIC
# endpoint on 127.0.0.1 (a free UDP port is tried until one binds); sets QPORT.
QPORT=""
start_daemon_quic() {
  for _ in 1 2 3 4 5; do
    QPORT=$(( 20000 + RANDOM % 30000 ))
    rm -rf "$T/state"
    start_daemon --quic-port "$QPORT" "$@"
    for _ in $(seq 1 200); do
      grep -q "event=netconfd-quic-listen port=$QPORT" "$T/daemon.log" && return 0
      kill -0 "$DPID" 2>/dev/null || break
      sleep 0.05
    done
    stop_daemon
  done
  fail "no QUIC endpoint came up"
}

# wait_for FILE PATTERN [SECONDS]: poll until FILE has a line matching PATTERN.
wait_for() {
  local n=$(( ${3:-20} * 20 ))
  for _ in $(seq 1 "$n"); do
    grep -q -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# session tls|quic OUT LINE...: a scripted session (nc_session) running the
# LINEs, in the background; sets SPID.
session() {
  local tr=$1 out=$2 port=$PORT
  shift 2
  [ "$tr" = quic ] && port=$QPORT
  printf '%s\n' "$@" > "$out.script"
  "$NC_SESSION" "$tr" 127.0.0.1 "$port" "$T/pki/ca.crt" "$T/pki/client.crt" \
    "$T/pki/client.key" < "$out.script" > "$out" 2>&1 &
  SPID=$!
}
