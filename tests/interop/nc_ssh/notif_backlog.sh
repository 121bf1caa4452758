#!/usr/bin/env bash
# Issue 10 #4 for notifications over SSH: a subscriber that does not read
# while another session makes events. The daemon (--max-queue 256 KiB) keeps
# the subscriber's backlog under twice the cap and closes its session
# (audited, counted in /metrics); the editing session is served throughout;
# the subscriber, reading again, finds its session ended. Without the bound
# the backlog grows with every event and no close comes: the test fails.
#   usage: notif_backlog.sh PATH/TO/mamori PATH/TO/mamori-netconfd
# SPDX-License-Identifier: Apache-2.0
set -u
MAMORI=${1:?usage: notif_backlog.sh mamori mamori-netconfd}
NETCONFD=${2:?usage: notif_backlog.sh mamori mamori-netconfd}
HERE=$(dirname "$0")
. "$HERE/lib.sh"
PY=$(python_with paramiko) || mm_skip "python3-paramiko not installed"
command -v curl >/dev/null 2>&1 || mm_skip "curl not installed"
[ -n "${MM_SOURCE_ROOT:-}" ] || fail "MM_SOURCE_ROOT not set (run through meson test)"
ssh_setup notif-backlog
CAP=262144
ssh_start_daemon --max-queue "$CAP" --metrics-port 0
MURL=$(grep -o 'metrics=http://[^ ]*' "$TMP/daemon.log" | head -1 | cut -d= -f2)
metric() { curl -sf --max-time 5 "$MURL" | sed -n "s/^$1 //p"; }

"$PY" "$HERE/notif_backlog_client.py" "$PORT" admin "$TMP/admin" 800 "$TMP/stop" "$TMP/go" \
  >"$TMP/client.out" 2>&1 &
CLIENT=$!
for _ in $(seq 1 300); do
  SID=$(sed -n 's/^subscriber session-id //p' "$TMP/client.out")
  [ -n "$SID" ] && break
  kill -0 "$CLIENT" 2>/dev/null || fail "client: $(cat "$TMP/client.out")"
  sleep 0.1
done
[ -n "$SID" ] || fail "no subscriber session"
# Wait for the close (bounded by the editor's 800 edits).
while ! grep -q "event=nc-notif-overflow session=$SID " "$TMP/daemon.log"; do
  grep -q '^edits ' "$TMP/client.out" && break
  kill -0 "$CLIENT" 2>/dev/null || break
  sleep 0.05
done
touch "$TMP/stop"
grep -q "event=nc-notif-overflow session=$SID " "$TMP/daemon.log" ||
  fail "the subscriber was never closed (max queued $(metric \
    mamori_netconf_session_queued_bytes_max))"
ok "subscriber session $SID closed: $(grep -o 'queued=[0-9]* cap=[0-9]*' "$TMP/daemon.log" |
  tail -1)"
MAXQ=$(metric mamori_netconf_session_queued_bytes_max)
[ -n "$MAXQ" ] && [ "${MAXQ%.*}" -gt "$CAP" ] && [ "${MAXQ%.*}" -le $((2 * CAP + 131072)) ] ||
  fail "max queued $MAXQ bytes, cap $CAP"
ok "backlog bounded: max $MAXQ bytes (cap $CAP)"
grep '"action":"session-end"' "$TMP/state/audit.log" | grep -q "\"session\":\"$SID\"" ||
  fail "no audit record of the close"
touch "$TMP/go"
wait "$CLIENT" || fail "client: $(cat "$TMP/client.out")"
grep -q '^editor closed' "$TMP/client.out" || fail "editor: $(cat "$TMP/client.out")"
grep -q '^subscriber ended' "$TMP/client.out" || fail "subscriber: $(cat "$TMP/client.out")"
ok "$(grep -E '^(edits|subscriber ended)' "$TMP/client.out" | tr '\n' ' ')"
[ "$(metric mamori_netconf_notification_overflows_total)" = 1 ] || fail "overflow not counted"
kill -0 "$DAEMON_PID" || fail "daemon died"
echo PASS
