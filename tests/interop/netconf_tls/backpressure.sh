#!/usr/bin/env bash
# Issue 10 #4: a client pipelines many <get>s and does not read the replies.
# The daemon must stop reading that session while its unsent replies exceed
# --max-queue (here 256 KiB), so its queue (the debug counter logged as
# event=nc-tls-queue max_queued=N when the session ends) stays near the cap
# instead of holding every reply; other sessions are served meanwhile; the
# session resumes and gets every reply once the client reads.
# usage: backpressure.sh NETCONFD MAMORI NC_SESSION
NETCONFD=${1:?usage: backpressure.sh NETCONFD MAMORI NC_SESSION}
MAMORI=${2:?}
NC_SESSION=${3:?}
MODULE_DIR=""
. "$(dirname "$0")/lib_transport.sh"
CAP=262144
N=600
"$MAMORI" pki init --dir "$T/pki" >/dev/null || fail "pki init"
start_daemon --max-queue "$CAP"

# Size of one reply, to know what "all replies queued" would be.
REPLY=$(nc_admin --server-name localhost get | wc -c)
[ "$REPLY" -gt 2000 ] || fail "unexpectedly small <get> reply ($REPLY bytes)"
ALL=$(( REPLY * N ))
[ "$ALL" -gt $(( 20 * CAP )) ] || fail "flood too small to show the cap ($ALL bytes)"

session tls "$T/flood.out" "@flood $N" "@wait $T/go" "@drain $N" '@close'
FLOOD=$SPID
wait_for "$T/flood.out" "step 1 done" 60 || fail "flood not sent: $(cat "$T/flood.out")"

# The flooding session is paused; another session is served.
nc_admin --server-name localhost get-config > /dev/null || fail "other session not served"
# Memory: the daemon has not queued the whole flood (bounded poll for the
# pause: the daemon's RSS is read once the other session was answered).
RSS_KB=$(awk '/^VmRSS/ {print $2}' "/proc/$DPID/status")
echo "daemon RSS while paused: ${RSS_KB} kB; all replies would be $(( ALL / 1024 )) kB"

touch "$T/go"
wait "$FLOOD" || fail "flooding session did not complete: $(cat "$T/flood.out")"
grep -q "^drained $N" "$T/flood.out" || fail "not every reply arrived: $(cat "$T/flood.out")"
grep -q '^closed' "$T/flood.out" || fail "flood session close"
wait_for "$T/daemon.log" "event=nc-tls-queue .*pauses=[1-9]" ||
  fail "the session was never paused"
MAXQ=$(sed -n 's/.*event=nc-tls-queue .*max_queued=\([0-9]*\) pauses=[1-9].*/\1/p' "$T/daemon.log" | sort -n | tail -1)
echo "max queued: $MAXQ bytes (cap $CAP, one reply $REPLY, all $ALL)"
[ "$MAXQ" -le $(( CAP + 16 * REPLY + 65536 )) ] || fail "queue grew to $MAXQ bytes over the cap $CAP"
# RSS is a second, rougher look (not under ASan, whose quarantine inflates it).
if [ -z "${MM_UNDER_ASAN:-}" ]; then
  [ "$RSS_KB" -lt $(( ALL / 1024 )) ] || fail "daemon RSS $RSS_KB kB holds the whole flood"
fi
finish
echo "PASS"
