#!/usr/bin/env bash
# Issue 10 #4 over QUIC: a client pipelines <get>s and does not read (its
# event loop does not run: nothing is acknowledged, no credit returned).
# The daemon answers only while the replies it owes stream 0 are under
# --max-queue (unacknowledged bytes), holds the rest of the input and gives
# the client no new flow-control credit; the debug counter (max_queued in
# event=nc_quic_closed) stays near the cap instead of every reply the first
# flight of requests asks for. Another QUIC session is served meanwhile; the
# session completes once the client reads.
# usage: backpressure_quic.sh NETCONFD MAMORI NC_SESSION
NETCONFD=${1:?usage: backpressure_quic.sh NETCONFD MAMORI NC_SESSION}
MAMORI=${2:?}
NC_SESSION=${3:?}
MODULE_DIR=""
. "$(dirname "$0")/lib_transport.sh"
CAP=262144
N=400
# TEST_CAP_OVERRIDE=4000000000 runs the same test without an effective cap: it fails.
"$MAMORI" pki init --dir "$T/pki" >/dev/null || fail "pki init"
start_daemon_quic --max-queue "${TEST_CAP_OVERRIDE:-$CAP}"
nqc() { nc_admin --transport quic --port "$QPORT" --server-name localhost "$@"; }

REPLY=$(nqc get | wc -c)
[ "$REPLY" -gt 2000 ] || fail "unexpectedly small <get> reply ($REPLY bytes)"

session quic "$T/flood.out" "@flood $N" "@wait $T/go" "@drain $N" '@close'
FLOOD=$SPID
wait_for "$T/flood.out" "step 1 done" 60 || fail "flood not sent: $(cat "$T/flood.out")"
nqc get-config > /dev/null || fail "other QUIC session not served"
nc_admin --server-name localhost get-config > /dev/null || fail "TLS session not served"

touch "$T/go"
wait "$FLOOD" || fail "flooding session did not complete: $(cat "$T/flood.out")"
grep -q "^drained $N" "$T/flood.out" || fail "not every reply arrived: $(cat "$T/flood.out")"
wait_for "$T/daemon.log" "event=nc_quic_closed .*max_queued=" || fail "no queue counter logged"
MAXQ=$(sed -n 's/.*event=nc_quic_closed .*max_queued=\([0-9]*\).*/\1/p' "$T/daemon.log" | sort -n | tail -1)
echo "max queued: $MAXQ bytes (cap $CAP, one reply $REPLY)"
[ "$MAXQ" -le $(( CAP + 16 * REPLY + 65536 )) ] || fail "queue grew to $MAXQ bytes over the cap $CAP"
finish
echo "PASS"
