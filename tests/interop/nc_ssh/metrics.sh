#!/usr/bin/env bash
# mamori-netconfd's Prometheus /metrics (issue 17 #5), scraped with curl while
# NETCONF-over-SSH sessions do known work: the counters must show exactly it.
#   usage: metrics.sh PATH/TO/mamori PATH/TO/mamori-netconfd
# SPDX-License-Identifier: Apache-2.0
set -u
MAMORI=${1:?usage: metrics.sh mamori mamori-netconfd}
NETCONFD=${2:?usage: metrics.sh mamori mamori-netconfd}
HERE=$(dirname "$0")
. "$HERE/lib.sh"
command -v curl >/dev/null 2>&1 || mm_skip "curl not installed"
[ -n "${MM_SOURCE_ROOT:-}" ] || fail "MM_SOURCE_ROOT not set (run through meson test)"
ssh_setup metrics
# A non-loopback metrics address is refused (the endpoint has no authentication).
"$NETCONFD" --state-dir "$TMP/refused" --pki-dir "$TMP/pki" --address 127.0.0.1 --port 0 \
  --metrics-port 0 --metrics-address 0.0.0.0 >"$TMP/refused.log" 2>&1 &&
  fail "daemon started with /metrics on 0.0.0.0"
grep -q 'event=netconfd-metrics' "$TMP/refused.log" || fail "no metrics error logged"
ok "non-loopback /metrics address refused"

ssh_start_daemon --metrics-port 0
MURL=$(grep -o 'metrics=http://[^ ]*' "$TMP/daemon.log" | head -1 | cut -d= -f2)
[ -n "$MURL" ] || fail "no metrics URL in the log"
scrape() { curl -sf --max-time 5 "$MURL" >"$TMP/m" || fail "scrape of $MURL failed"; }
# metric_is NAME_WITH_LABELS VALUE: poll (the gauges refresh twice a second).
metric_is() {
  for _ in $(seq 1 50); do
    scrape
    grep -qxF "$1 $2" "$TMP/m" && return 0
    sleep 0.1
  done
  echo "--- last scrape:" >&2; grep "${1%%\{*}" "$TMP/m" >&2
  fail "expected '$1 $2'"
}

scrape
grep -q '^# TYPE mamori_netconf_rpcs_total counter$' "$TMP/m" || fail "no rpcs_total family"
grep -q '^# TYPE mamori_netconf_sessions gauge$' "$TMP/m" || fail "no sessions family"
metric_is 'mamori_netconf_sessions{transport="netconf-ssh"}' 0
ok "scrape: families present, no SSH session yet"

nc() { "$MAMORI" nc --transport ssh --host 127.0.0.1 --port "$PORT" --host-key-fingerprint "$FP" \
  --rpc-timeout 20 "$@"; }
A=(--user admin --key "$TMP/admin")
G=(--user guest --key "$TMP/guest")
nc "${A[@]}" get-config --source running >/dev/null || fail "get-config"
nc "${A[@]}" get-config --source running >/dev/null || fail "get-config"
echo '<top xmlns="urn:mamori:test:nc"><name>m</name></top>' >"$TMP/cfg.xml"
nc "${A[@]}" edit-config --target candidate --config "$TMP/cfg.xml" >/dev/null || fail "edit-config"
nc "${A[@]}" commit >/dev/null || fail "commit"
nc "${A[@]}" edit-config --target candidate --config "$TMP/cfg.xml" >/dev/null || fail "edit-config"
nc "${A[@]}" commit --confirmed --timeout 120 --persist P1 >/dev/null || fail "confirmed commit"
nc "${A[@]}" cancel-commit --persist-id P1 >/dev/null || fail "cancel-commit"
echo '<top xmlns="urn:mamori:test:nc"><name>guest</name></top>' >"$TMP/guest.xml"
nc "${G[@]}" edit-config --target running --config "$TMP/guest.xml" >/dev/null 2>&1 &&
  fail "guest edit allowed"

metric_is 'mamori_netconf_rpcs_total{operation="get-config",result="ok",transport="netconf-ssh"}' 2
metric_is 'mamori_netconf_rpcs_total{operation="commit",result="ok",transport="netconf-ssh"}' 2
metric_is 'mamori_netconf_rpcs_total{operation="edit-config",result="error",transport="netconf-ssh"}' 1
metric_is 'mamori_netconf_commits_total{result="ok"}' 2
metric_is 'mamori_netconf_rollbacks_total{cause="cancel"}' 1
# The guest's denial is either an operation or a data-write denial, per the seed NACM rules.
scrape
DEN=$(awk '/^mamori_netconf_nacm_denials_total/ {s += $2} END {print s + 0}' "$TMP/m")
[ "$DEN" -ge 1 ] || fail "no NACM denial counted"
CNT=$(awk '/^mamori_netconf_audit_write_seconds_count / {print $2}' "$TMP/m")
[ "${CNT:-0}" -ge 1 ] || fail "no audit write counted"
awk '/^mamori_netconf_audit_write_seconds_sum / {exit !($2 > 0)}' "$TMP/m" ||
  fail "audit write latency sum not positive"
ok "RPCs by operation/result/transport, commits, rollback, NACM denials ($DEN), audit writes ($CNT)"

# Sessions gauge follows an open session.
PY=$(python_with ncclient) || PY=
if [ -n "$PY" ]; then
  "$PY" - "$PORT" "$TMP/admin" "$HOSTKEY_B64" "$TMP/go" >"$TMP/hold.out" 2>&1 <<'PYEOF' &
import os, sys, time
from ncclient import manager
m = manager.connect(host="127.0.0.1", port=int(sys.argv[1]), username="admin",
                    key_filename=sys.argv[2], hostkey_verify=True, hostkey_b64=sys.argv[3],
                    allow_agent=False, look_for_keys=False, timeout=30)
for _ in range(600):
    if os.path.exists(sys.argv[4]):
        break
    time.sleep(0.05)
m.close_session()
PYEOF
  HOLD=$!
  metric_is 'mamori_netconf_sessions{transport="netconf-ssh"}' 1
  touch "$TMP/go"
  wait "$HOLD" || fail "ncclient holder: $(cat "$TMP/hold.out")"
  metric_is 'mamori_netconf_sessions{transport="netconf-ssh"}' 0
  ok "sessions gauge: 1 while a session is open, 0 after"
fi
grep -q '^mamori_netconf_notification_replay_depth [1-9]' "$TMP/m" ||
  fail "replay depth should count the config-change notifications"
kill -0 "$DAEMON_PID" || fail "daemon died"
echo PASS
