#!/usr/bin/env bash
# Issue 10 #4, notifications: a subscriber that never reads must not grow the
# daemon's memory while other sessions keep making events.
#
# A session (TLS or QUIC, $4) creates an RFC 5277 subscription and then does
# not read. Another session of the same transport makes many edit-configs,
# each a netconf-config-change of ~200 edits for the subscriber. The daemon
# (--max-queue 256 KiB) must keep the subscriber's backlog under twice the
# cap: it closes the session once it is over (documented in docs/netconfd.md),
# writes an audit record of it, and counts it in /metrics; the editor is
# served throughout and after; the subscriber, when it reads again, finds its
# session ended. Without the bound the editor's events pile up in the
# subscriber's queue and no close ever comes: the test fails.
# usage: notif_backlog.sh NETCONFD MAMORI NC_SESSION tls|quic
NETCONFD=${1:?usage: notif_backlog.sh NETCONFD MAMORI NC_SESSION tls|quic}
MAMORI=${2:?}
NC_SESSION=${3:?}
TR=${4:?}
MODULE_DIR=${MM_NC_TEST_YANG:?MM_NC_TEST_YANG not set}
. "$(dirname "$0")/lib_transport.sh"
CAP=262144
EDITS=800 # upper bound; the subscriber is closed long before without a fault

"$MAMORI" pki init --dir "$T/pki" >/dev/null || fail "pki init"
if [ "$TR" = quic ]; then
  start_daemon_quic --max-queue "$CAP" --metrics-port 0
else
  start_daemon --max-queue "$CAP" --metrics-port 0
fi
MPORT=$(sed -n 's/.*event=netconfd-ready metrics=http:\/\/127.0.0.1:\([0-9]*\)\/metrics.*/\1/p' \
  "$T/daemon.log" | head -1)
[ -n "$MPORT" ] || fail "no metrics endpoint"
metric() { # metric NAME [LABELS]: its value in /metrics, "" if absent
  curl -sf "http://127.0.0.1:$MPORT/metrics" |
    awk -v k="$1" -v l="${2:-}" 'BEGIN { if (l != "") k = k "{" l "}" } $1 == k { print $2; exit }'
}

# The subscriber: subscribe, then stop reading until told.
session "$TR" "$T/sub.out" \
  '<create-subscription xmlns="urn:ietf:params:xml:ns:netconf:notification:1.0"/>' \
  "@wait $T/go" '@until-end'
SUB=$SPID
wait_for "$T/sub.out" "step 1 done" 30 || fail "no subscription: $(cat "$T/sub.out")"
grep -q '^reply: ok' "$T/sub.out" || fail "create-subscription refused: $(cat "$T/sub.out")"
SID=$(sed -n 's/^session-id \([0-9]*\)/\1/p' "$T/sub.out")
RSS0=$(awk '/^VmRSS/ {print $2}' "/proc/$DPID/status")

# The editor: each edit replaces 100 leaf-list entries by 100 others.
TAGS=""
for i in $(seq -w 1 100); do TAGS="$TAGS<tag>@V@-entry-number-$i</tag>"; done
EDIT="<edit-config><target><running/></target><config><top xmlns=\"urn:mamori:test:nc\" \
xmlns:nc=\"urn:ietf:params:xml:ns:netconf:base:1.0\" nc:operation=\"replace\">$TAGS</top>\
</config></edit-config>"
session "$TR" "$T/edit.out" "@cycle $EDITS $T/stop $EDIT" \
  '<get-config><source><running/></source></get-config>' '@close'
EDITOR=$SPID

# Wait for the daemon to end the subscriber (bounded by the editor's end).
while ! grep -q "event=nc-notif-overflow session=$SID " "$T/daemon.log"; do
  kill -0 "$EDITOR" 2>/dev/null || break
  sleep 0.05
done
RSS1=$(awk '/^VmRSS/ {print $2}' "/proc/$DPID/status")
touch "$T/stop"
wait "$EDITOR" || fail "the editing session failed: $(tail -5 "$T/edit.out")"
grep -q "event=nc-notif-overflow session=$SID " "$T/daemon.log" ||
  fail "the subscriber was never closed: $(grep -c . "$T/edit.out") editor lines, $(metric \
    mamori_netconf_session_queued_bytes_max) bytes queued at most"
echo "editor: $(grep '^cycled' "$T/edit.out")"
grep -q '^closed' "$T/edit.out" || fail "editor close: $(cat "$T/edit.out")"
grep -q '^reply: data' "$T/edit.out" || fail "editor get-config after the overflow"

# The bound: the subscriber's backlog never went past twice the cap plus one
# notification (one edit's ~200 <edit> entries, well under 128 KiB).
MAXQ=$(metric mamori_netconf_session_queued_bytes_max)
echo "subscriber session $SID closed; max queued $MAXQ bytes (cap $CAP)"
[ -n "$MAXQ" ] || fail "no mamori_netconf_session_queued_bytes_max in /metrics"
[ "${MAXQ%.*}" -le $(( 2 * CAP + 131072 )) ] || fail "backlog grew to $MAXQ bytes"
[ "${MAXQ%.*}" -gt "$CAP" ] || fail "backlog never reached the cap ($MAXQ): test did not load it"
[ "$(metric mamori_netconf_notification_overflows_total)" = 1 ] ||
  fail "overflow not counted: $(metric mamori_netconf_notification_overflows_total)"
# Nothing stays queued for the closed session (the gauge refreshes every 0.5 s).
for _ in $(seq 1 100); do
  Q=$(metric mamori_netconf_output_queued_bytes "transport=\"netconf-$TR\"")
  [ -n "$Q" ] && [ "${Q%.*}" -lt "$CAP" ] && break
  sleep 0.05
done
[ -n "$Q" ] && [ "${Q%.*}" -lt "$CAP" ] || fail "output still queued after the close: $Q"
echo "daemon RSS before the flood ${RSS0} kB, at the close ${RSS1} kB"

# The audit log has the close, as a durable denial naming the session.
grep "\"action\":\"session-end\"" "$T/state/audit.log" | grep -q "\"session\":\"$SID\"" ||
  fail "no audit record of the close: $(tail -3 "$T/state/audit.log")"
# (`mamori audit` exists when the audit module is built.)
V=$("$MAMORI" audit verify-log "$T/state/audit.log" 2>&1) ||
  case "$V" in *"unknown noun"*) ;; *) fail "audit log does not verify: $V" ;; esac

# Other sessions are served, over TLS and the subscriber's transport.
nc_admin --server-name localhost get-config > /dev/null || fail "a new TLS session not served"
if [ "$TR" = quic ]; then
  nc_admin --transport quic --port "$QPORT" --server-name localhost get-config > /dev/null ||
    fail "a new QUIC session not served"
fi

# The subscriber, reading again, finds its session ended.
touch "$T/go"
wait "$SUB" || fail "subscriber: $(cat "$T/sub.out")"
grep -q '^ended: ' "$T/sub.out" || fail "subscriber session not ended: $(cat "$T/sub.out")"
echo "subscriber: $(grep -E '^(notifications|ended|connection)' "$T/sub.out" | tr '\n' ' ')"
finish
echo "PASS"
