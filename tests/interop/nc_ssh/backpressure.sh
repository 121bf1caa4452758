#!/usr/bin/env bash
# Back-pressure on NETCONF over SSH: a client pipelines many requests and
# reads nothing. The daemon must stop taking its input once --max-queue bytes
# of replies wait (its metrics show the queued bytes stay near the cap, and
# the SSH window then stops the client), then deliver every reply in order
# once the client reads.
#   usage: backpressure.sh PATH/TO/mamori PATH/TO/mamori-netconfd
# SPDX-License-Identifier: Apache-2.0
set -u
MAMORI=${1:?usage: backpressure.sh mamori mamori-netconfd}
NETCONFD=${2:?usage: backpressure.sh mamori mamori-netconfd}
HERE=$(dirname "$0")
. "$HERE/lib.sh"
PY=$(python_with paramiko) || mm_skip "python3-paramiko not installed"
command -v curl >/dev/null 2>&1 || mm_skip "curl not installed"
[ -n "${MM_SOURCE_ROOT:-}" ] || fail "MM_SOURCE_ROOT not set (run through meson test)"
ssh_setup backpressure
CAP=65536
N=3000
ssh_start_daemon --max-queue "$CAP" --metrics-port 0 --log-level debug
MURL=$(grep -o 'metrics=http://[^ ]*' "$TMP/daemon.log" | head -1 | cut -d= -f2)
timeout 170 "$PY" "$HERE/backpressure_client.py" "$PORT" admin "$TMP/admin" "$N" \
  "$TMP/ready" "$TMP/go" >"$TMP/client.out" 2>&1 &
CLIENT=$!
wait_log 'event=nc-ssh-pause' 600 || fail "the session's input was never paused"
ok "input paused while replies wait ($(grep -m1 -o 'queued=[0-9]* cap=[0-9]*' "$TMP/daemon.log"))"
# While paused, the unsent replies stay within the cap plus one input piece's replies.
MAXQ=0
for _ in $(seq 1 20); do
  Q=$(curl -sf --max-time 5 "$MURL" |
    sed -n 's/^mamori_netconf_output_queued_bytes{transport="netconf-ssh"} //p')
  Q=${Q%.*}
  [ -n "$Q" ] && [ "$Q" -gt "$MAXQ" ] && MAXQ=$Q
  sleep 0.05
done
[ "$MAXQ" -gt 0 ] || fail "no queued bytes seen while paused"
[ "$MAXQ" -le $((CAP + 65536)) ] || fail "queued $MAXQ bytes, cap $CAP"
ok "queued output stayed bounded (max seen $MAXQ bytes, cap $CAP)"
touch "$TMP/go"
wait "$CLIENT" || fail "client: $(cat "$TMP/client.out")"
grep -q "all $N replies, in order" "$TMP/client.out" || fail "client: $(cat "$TMP/client.out")"
ok "$(cat "$TMP/client.out")"
kill -0 "$DAEMON_PID" || fail "daemon died"
echo PASS
